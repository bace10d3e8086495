package org.alexnet4j.cuda;

import java.util.Collection;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal JSON writer for the GPU report (maps, collections, numbers, booleans, strings): the bundle carries no
 * JSON library (it must stay a JRE, JavaCPP and the CUDA presets; docs/stack.md).
 */
final class Json {
    private Json() {
    }

    static String write(Object o) {
        StringBuilder b = new StringBuilder();
        write(b, o, "");
        return b.toString();
    }

    private static void write(StringBuilder b, Object o, String indent) {
        if (o == null) {
            b.append("null");
        } else if (o instanceof Map<?, ?> m) {
            b.append("{");
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            String inner = indent + "  ";
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                b.append('\n').append(inner);
                string(b, String.valueOf(e.getKey()));
                b.append(": ");
                write(b, e.getValue(), inner);
                if (it.hasNext()) {
                    b.append(',');
                }
            }
            b.append(m.isEmpty() ? "}" : "\n" + indent + "}");
        } else if (o instanceof Collection<?> c) {
            b.append('[');
            Iterator<?> it = c.iterator();
            while (it.hasNext()) {
                write(b, it.next(), indent);
                if (it.hasNext()) {
                    b.append(", ");
                }
            }
            b.append(']');
        } else if (o instanceof Double d) {
            b.append(Double.isFinite(d) ? String.format(Locale.ROOT, "%.6g", d) : "null");
        } else if (o instanceof Float f) {
            write(b, (double) f, indent);
        } else if (o instanceof Number || o instanceof Boolean) {
            b.append(o);
        } else {
            string(b, o.toString());
        }
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
