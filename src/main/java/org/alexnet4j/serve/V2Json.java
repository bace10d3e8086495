package org.alexnet4j.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The Open Inference Protocol's REST bodies (JSON, Jackson) with Triton's binary tensor data extension: a request
 * body may be a JSON header of {@code Inference-Header-Content-Length} bytes followed by the raw data of the inputs
 * whose {@code parameters.binary_data_size} says so (FP32 little-endian; BYTES elements each a 4-byte little-endian
 * length and the bytes); outputs asked with {@code binary_data} (or {@code binary_data_output} for all) come back the
 * same way. In plain JSON, FP32 data is a flat or nested array of numbers and an image is a base64 string.
 */
public final class V2Json {
    /** Triton's header: the length of the JSON part of a body that carries binary tensors after it. */
    public static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    /** NaN and Infinity parse (as numbers), so that the finiteness check names them instead of a parse error. */
    private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(com.fasterxml.jackson.core.StreamReadFeature.USE_FAST_DOUBLE_PARSER).build();

    private V2Json() {
    }

    /** A response body and the header that says where its JSON ends (null: all JSON). */
    public record Body(byte[] bytes, Integer jsonLength) {
    }

    /**
     * Parses an infer request for {@code model}.
     *
     * @param jsonLength the {@value #HEADER_LENGTH} header (null: the whole body is JSON)
     */
    public static InferRequest request(String model, String version, byte[] body, Integer jsonLength) {
        int json = jsonLength == null ? body.length : jsonLength;
        if (json < 0 || json > body.length) {
            throw InferenceService.invalid(HEADER_LENGTH + " is " + jsonLength + " but the body has " + body.length
                    + " bytes");
        }
        JsonNode root;
        try {
            try (com.fasterxml.jackson.core.JsonParser parser = JSON.getFactory().createParser(body, 0, json)) {
                root = parser.nextToken() == null ? null : tree(parser);
                if (root != null && parser.nextToken() != null) {
                    throw InferenceService.invalid("the body has more after its JSON object (a binary part needs the "
                            + HEADER_LENGTH + " header)");
                }
            }
        } catch (JsonProcessingException e) {
            throw InferenceService.invalid("the body is not valid JSON: " + e.getOriginalMessage().replaceAll(
                    "\\s*\\(start marker at \\[Source: [^\\]]*\\]; line: (\\d+), column: (\\d+)\\)",
                    " (opened at line $1, column $2)")
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")" : ""));
        } catch (java.io.IOException e) {
            throw InferenceService.invalid("the body cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw InferenceService.invalid("the body must be a JSON object with \"inputs\"");
        }
        JsonNode inputs = root.get("inputs");
        if (inputs == null || !inputs.isArray()) {
            throw InferenceService.invalid("the request has no \"inputs\" array");
        }
        ByteBuffer binary = ByteBuffer.wrap(body, json, body.length - json).slice().order(ByteOrder.LITTLE_ENDIAN);
        List<Tensor> in = new ArrayList<>();
        for (JsonNode i : inputs) {
            in.add(input(i, binary));
        }
        if (binary.hasRemaining()) {
            throw InferenceService.invalid(binary.remaining() + " bytes of binary data after the JSON that no "
                    + "input's binary_data_size accounts for");
        }
        JsonNode params = root.path("parameters");
        boolean binaryOut = params.path("binary_data_output").asBoolean(false);
        List<InferRequest.Output> outs = new ArrayList<>();
        for (JsonNode o : root.path("outputs")) {
            String name = text(o, "name", "an output");
            outs.add(new InferRequest.Output(name, o.path("parameters").path("binary_data").asBoolean(binaryOut),
                    o.path("parameters").path("classification").asInt(0)));
        }
        long timeoutMicros = params.path("timeout").asLong(0);
        return new InferRequest(model, version, root.path("id").asText(""), in, outs, binaryOut,
                Math.max(0, timeoutMicros) * 1000);
    }

    private static Tensor input(JsonNode i, ByteBuffer binary) {
        String name = text(i, "name", "an input");
        String type = text(i, "datatype", "input '" + name + "'");
        JsonNode shapeNode = i.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw InferenceService.invalid("input '" + name + "' has no \"shape\" array");
        }
        long[] shape = new long[shapeNode.size()];
        for (int d = 0; d < shape.length; d++) {
            if (!shapeNode.get(d).canConvertToLong() || !shapeNode.get(d).isIntegralNumber()) {
                throw InferenceService.invalid("input '" + name + "': shape " + shapeNode + " is not integers");
            }
            shape[d] = shapeNode.get(d).asLong();
        }
        long count = Tensor.elements(shape);
        if (count < 0 || count > Integer.MAX_VALUE) {
            throw InferenceService.invalid("input '" + name + "': shape " + shapeNode + " is not a tensor shape");
        }
        JsonNode size = i.path("parameters").get("binary_data_size");
        InferenceService.checkDatatype(name, type);
        if (size != null) {
            long n = size.asLong(-1);
            if (n < 0 || n > binary.remaining()) {
                throw InferenceService.invalid("input '" + name + "': binary_data_size " + size + " but "
                        + binary.remaining() + " bytes of binary data are left");
            }
            ByteBuffer part = binary.slice().order(ByteOrder.LITTLE_ENDIAN).limit((int) n);
            binary.position(binary.position() + (int) n);
            return Tensor.FP32.equals(type) ? Tensor.fp32(name, shape, floats(name, part, count), false)
                    : Tensor.bytes(name, shape, elements(name, part), false);
        }
        JsonNode data = i.get("data");
        if (data == null) {
            throw InferenceService.invalid("input '" + name + "' has neither \"data\" nor binary_data_size");
        }
        Data d = data instanceof com.fasterxml.jackson.databind.node.POJONode pojo && pojo.getPojo() instanceof Data v
                ? v : new Data();
        if (d.other != null || !(data instanceof com.fasterxml.jackson.databind.node.POJONode)) {
            throw InferenceService.invalid("input '" + name + "': \"data\" must be an array of numbers (FP32) or "
                    + "base64 strings (BYTES), found " + (d.other != null ? d.other : abbreviate(data.toString())));
        }
        if (Tensor.FP32.equals(type)) {
            if (!d.strings.isEmpty()) {
                throw InferenceService.invalid("input '" + name + "' is FP32 but holds strings, e.g. \""
                        + abbreviate(d.strings.get(0)) + "\"");
            }
            return Tensor.fp32(name, shape, Arrays.copyOf(d.numbers, d.count), false);
        }
        if (d.count > 0) {
            throw InferenceService.invalid("input '" + name + "' is BYTES but holds numbers");
        }
        List<byte[]> bytes = new ArrayList<>();
        for (String e : d.strings) {
            try {
                bytes.add(Base64.getMimeDecoder().decode(e));
            } catch (IllegalArgumentException ex) {
                throw InferenceService.invalid("input '" + name + "' element " + bytes.size() + " is not base64 ("
                        + ex.getMessage() + "); in JSON send each image base64-encoded, or raw with the binary "
                        + "tensor data extension");
            }
        }
        return Tensor.bytes(name, shape, bytes, false);
    }

    /**
     * A {@code "data"} array read straight into floats (flat or nested), or its strings: a JSON FP32 image is 154,587
     * numbers, and a tree node for each costs more than the parsing.
     */
    static final class Data {
        float[] numbers = new float[1024];
        int count;
        final List<String> strings = new ArrayList<>();
        String other;

        void add(float v) {
            if (count == numbers.length) {
                numbers = Arrays.copyOf(numbers, numbers.length * 2);
            }
            numbers[count++] = v;
        }
    }

    /** The JSON value at the parser's current token as a tree, with every "data" array read as {@link Data}. */
    private static JsonNode tree(com.fasterxml.jackson.core.JsonParser p) throws java.io.IOException {
        com.fasterxml.jackson.core.JsonToken t = p.currentToken();
        if (t == com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
            ObjectNode o = JSON.createObjectNode();
            while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String field = p.currentName();
                com.fasterxml.jackson.core.JsonToken v = p.nextToken();
                if (field.equals("data") && v == com.fasterxml.jackson.core.JsonToken.START_ARRAY) {
                    Data d = new Data();
                    data(p, d);
                    o.putPOJO(field, d);
                } else {
                    o.set(field, tree(p));
                }
            }
            return o;
        }
        if (t == com.fasterxml.jackson.core.JsonToken.START_ARRAY) {
            ArrayNode a = JSON.createArrayNode();
            while (p.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
                if (p.currentToken() == null) {
                    throw new com.fasterxml.jackson.core.io.JsonEOFException(p, null, "an array is not closed");
                }
                a.add(tree(p));
            }
            return a;
        }
        return JSON.readTree(p);
    }

    private static void data(com.fasterxml.jackson.core.JsonParser p, Data d) throws java.io.IOException {
        com.fasterxml.jackson.core.JsonToken t;
        while ((t = p.nextToken()) != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
            if (t == null) {
                throw new com.fasterxml.jackson.core.io.JsonEOFException(p, null, "the data array is not closed");
            }
            switch (t) {
                case START_ARRAY -> data(p, d);
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> d.add(p.getFloatValue());
                case VALUE_STRING -> {
                    String text = p.getText();
                    if (List.of("NaN", "Infinity", "-Infinity").contains(text)) {
                        d.add(Float.parseFloat(text));
                    } else {
                        d.strings.add(text);
                    }
                }
                default -> {
                    if (d.other == null) {
                        d.other = t == com.fasterxml.jackson.core.JsonToken.START_OBJECT ? "an object" : p.getText();
                    }
                    p.skipChildren();
                }
            }
        }
    }

    private static float[] floats(String name, ByteBuffer b, long count) {
        if (b.remaining() != count * 4) {
            throw InferenceService.invalid("input '" + name + "': " + b.remaining() + " bytes of FP32 binary data "
                    + "for " + count + " values (" + count * 4 + " bytes)");
        }
        float[] v = new float[(int) count];
        b.asFloatBuffer().get(v);
        return v;
    }

    /** BYTES binary data: each element a 4-byte little-endian length and that many bytes. */
    static List<byte[]> elements(String name, ByteBuffer b) {
        List<byte[]> out = new ArrayList<>();
        while (b.hasRemaining()) {
            if (b.remaining() < 4) {
                throw InferenceService.invalid("input '" + name + "': BYTES element " + out.size()
                        + " is cut short (its 4-byte length is incomplete)");
            }
            long len = b.getInt() & 0xffffffffL;
            if (len > b.remaining()) {
                throw InferenceService.invalid("input '" + name + "': BYTES element " + out.size() + " says " + len
                        + " bytes but " + b.remaining() + " are left");
            }
            byte[] e = new byte[(int) len];
            b.get(e);
            out.add(e);
        }
        return out;
    }

    private static String text(JsonNode n, String field, String what) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw InferenceService.invalid(what + " has no \"" + field + "\" string");
        }
        return v.asText();
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    /** The response body: JSON, then the binary outputs' bytes in order. */
    public static Body response(InferResponse r) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model_name", r.model());
        root.put("model_version", r.version());
        if (r.id() != null && !r.id().isEmpty()) {
            root.put("id", r.id());
        }
        ArrayNode outs = root.putArray("outputs");
        ByteArrayOutputStream bin = new ByteArrayOutputStream();
        for (Tensor t : r.outputs()) {
            ObjectNode o = outs.addObject();
            o.put("name", t.name());
            o.put("datatype", t.datatype());
            ArrayNode sh = o.putArray("shape");
            for (long d : t.shape()) {
                sh.add(d);
            }
            if (t.binary()) {
                byte[] raw = raw(t);
                o.putObject("parameters").put("binary_data_size", raw.length);
                bin.writeBytes(raw);
            } else {
                ArrayNode data = o.putArray("data");
                if (t.fp32() != null) {
                    for (float f : t.fp32()) {
                        data.add(f);
                    }
                } else {
                    for (byte[] b : t.bytes()) {
                        data.add(new String(b, StandardCharsets.UTF_8));
                    }
                }
            }
        }
        byte[] json = write(root);
        if (bin.size() == 0) {
            return new Body(json, null);
        }
        byte[] all = java.util.Arrays.copyOf(json, json.length + bin.size());
        System.arraycopy(bin.toByteArray(), 0, all, json.length, bin.size());
        return new Body(all, json.length);
    }

    /** A tensor's raw bytes (FP32 little-endian; BYTES length-prefixed), as both protocols' raw contents carry it. */
    public static byte[] raw(Tensor t) {
        if (t.fp32() != null) {
            ByteBuffer b = ByteBuffer.allocate(t.fp32().length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(t.fp32());
            return b.array();
        }
        int len = 0;
        for (byte[] e : t.bytes()) {
            len += 4 + e.length;
        }
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] e : t.bytes()) {
            b.putInt(e.length).put(e);
        }
        return b.array();
    }

    /** {@code {"error": message}}, the protocol's error body. */
    public static byte[] error(String message) {
        return write(JSON.createObjectNode().put("error", message));
    }

    static byte[] write(Object node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectMapper mapper() {
        return JSON;
    }
}
