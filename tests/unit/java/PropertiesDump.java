// Loads each .properties file given on the command line with
// java.util.Properties.load(InputStream) - the ISO-8859-1 reader Kafka's
// Utils.loadProps uses - and prints one JSON array with one object per file.
//
// Every character outside printable ASCII is written as a JSON unicode escape
// (backslash, "u", 4 hex digits; not spelled literally here because javac
// decodes unicode escapes even inside comments) of its UTF-16 code unit, so
// the output is ASCII and a lone surrogate or a character outside the BMP
// survives the trip back to Python unchanged.
//
// Run with the Java 11+ source launcher: java PropertiesDump.java a.properties b.properties

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;

public class PropertiesDump {

    public static void main(String[] args) throws IOException {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < args.length; i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(dump(args[i]));
        }
        out.append(']');
        System.out.println(out);
    }

    private static String dump(String path) throws IOException {
        Properties props = new Properties();
        try (InputStream in = new FileInputStream(path)) {
            props.load(in);
        }
        StringBuilder out = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<Object, Object> entry : props.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            out.append(quote((String) entry.getKey()));
            out.append(':');
            out.append(quote((String) entry.getValue()));
        }
        return out.append('}').toString();
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7f) {
                out.append(c);
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        return out.append('"').toString();
    }
}
