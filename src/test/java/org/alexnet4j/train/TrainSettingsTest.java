package org.alexnet4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.cli.Main;
import org.alexnet4j.data.transforms.Normalization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Each training setting is declared once ({@link TrainConfig}): config files keep their names, the flags take the same
 * names, the help shows the declared defaults, and docs/training.md's table is generated from the declarations.
 */
class TrainSettingsTest {
    @TempDir
    Path tmp;

    private static final String BEGIN = "<!-- settings:begin -->\n";
    private static final String END = "<!-- settings:end -->";

    /**
     * The table in docs/training.md is {@link TrainConfig#settingsTable()}. Run with {@code -Dsettings.write=true}
     * to write it there after changing a setting.
     */
    @Test
    void theDocsTableIsTheDeclarations() throws Exception {
        Path doc = Path.of("docs/training.md");
        String s = Files.readString(doc);
        int a = s.indexOf(BEGIN), b = s.indexOf(END);
        assertThat(a).as("docs/training.md has the settings markers").isNotNegative();
        String table = TrainConfig.settingsTable();
        if (Boolean.getBoolean("settings.write")) {
            Files.writeString(doc, s.substring(0, a + BEGIN.length()) + table + s.substring(b));
            s = Files.readString(doc);
            b = s.indexOf(END);
        }
        assertThat(s.substring(a + BEGIN.length(), b)).as("docs/training.md's settings table; regenerate with "
                + "mvn test -Dtest=TrainSettingsTest -Dsettings.write=true").isEqualTo(table);
        assertThat(table).contains("| `--lr` | `lr` | `0.01` | kept |").contains("| `--epochs` | `epochs` | `90` | may "
                + "change |").contains("| `--normalize` | `normalize` | `mean-image` | kept |");
    }

    @Test
    void configFilesKeepTheirNamesAndTypedValuesRoundTrip() throws Exception {
        Path f = tmp.resolve("recipe.json");
        Files.writeString(f, "{\"data\": \"d\", \"optimizer\": \"adam\", \"init\": \"he\", \"normalize\": \"channel\", "
                + "\"cacheMode\": \"device\", \"engine\": \"reference\", \"precision\": \"fp32-fast\", "
                + "\"parallelMode\": \"shared-gradients\"}");
        TrainConfig c = TrainConfig.read(f);
        assertThat(c.optimizer).isEqualTo(Optimizer.ADAM);
        assertThat(c.init).isEqualTo(Init.HE);
        assertThat(c.normalize).isEqualTo(Normalization.Kind.CHANNEL);
        assertThat(c.cacheMode).isEqualTo(CacheMode.DEVICE);
        assertThat(c.engine).isEqualTo(TrainingEngine.REFERENCE);
        assertThat(c.precision).isEqualTo(TrainPrecision.FP32_FAST);
        assertThat(c.parallelMode).isEqualTo(DataParallel.Mode.SHARED_GRADIENTS);
        Path out = tmp.resolve("config.json");
        c.write(out);
        var json = new ObjectMapper().readTree(out.toFile());
        assertThat(json.get("optimizer").asText()).isEqualTo("adam");
        assertThat(json.get("normalize").asText()).isEqualTo("channel");
        assertThat(json.get("parallelMode").asText()).isEqualTo("shared-gradients");
        assertThat(json.get("precision").asText()).isEqualTo("fp32-fast");
        assertThat(TrainConfig.read(out).toMap()).isEqualTo(c.toMap());

        Files.writeString(f, "{\"optimizer\": \"nesterov\"}");
        assertThatThrownBy(() -> TrainConfig.read(f)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(f + ": --optimizer must be sgd or adam, got nesterov");
    }

    @Test
    void everySettingHasAFlagItsHelpShowsTheDeclaredDefault() throws Exception {
        StringWriter help = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.getSubcommands().get("train").usage(new PrintWriter(help));
        String text = help.toString().replaceAll("\\s+", " ");
        TrainConfig defaults = new TrainConfig();
        for (Field f : TrainConfig.settings()) {
            assertThat(text).as(f.getName()).contains(TrainConfig.flag(f));
            String desc = String.join(" ", f.getAnnotation(CommandLine.Option.class).description());
            if (desc.contains("${DEFAULT-VALUE}")) {
                assertThat(text).as(f.getName()).contains("(default: " + f.get(defaults));
            }
        }
        assertThat(TrainConfig.resumableFlags()).contains("--epochs", "--engine", "--spark", "--threads")
                .doesNotContain("--lr", "--batch", "--data", "--normalize");
    }
}
