# Sourced by scripts/alexnet4j and scripts/spark-submit.sh: the packages Spark 3.1 needs opened on JDK 17 (Spark's
# own launcher list; the pom's spark.jdk17.opens is the same list for the tests). Harmless without Spark.
JDK17_OPENS=""
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  JDK17_OPENS="$JDK17_OPENS --add-opens=java.base/$p=ALL-UNNAMED"
done
