package org.alexnet4j.train;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The sentence a driver stops with when a standalone master starts no executor for it. */
class SparkWaitTest {
    @Test
    void theSentenceNamesWhatWasAskedAndWhatEachWorkerOffers() {
        String json = "{\"url\":\"spark://127.0.0.1:7077\",\"workers\":[{\"id\":\"worker-1\",\"cores\":1,"
                + "\"coresused\":0,\"coresfree\":1,\"memory\":3072,\"memoryfree\":3072,\"state\":\"ALIVE\"},"
                + "{\"id\":\"worker-2\",\"cores\":1,\"coresfree\":0,\"memoryfree\":0,\"state\":\"DEAD\"}],"
                + "\"cores\":2}";
        String s = SparkTraining.noExecutors("spark://127.0.0.1:7077", 120, "2", "4g", "http://127.0.0.1:8080",
                json);
        assertThat(s).startsWith("no Spark executor started on spark://127.0.0.1:7077 within 120 s")
                .contains("asks for 2 cores and 4g of memory per executor")
                .contains("worker-1 ALIVE: 1 of 1 cores free, 3072 MB of memory free")
                .contains("worker-2 DEAD: 0 of 1 cores free")
                .contains("scripts/spark-submit.sh --cores N");
        assertThat(SparkTraining.noExecutors("spark://h:7077", 60, null, "1g", "http://h:8080", null))
                .contains("a worker's cores").contains("could not be listed (no JSON at http://h:8080/json/");
    }
}
