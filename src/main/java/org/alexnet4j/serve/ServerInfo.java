package org.alexnet4j.serve;

/** The server's name and version for the protocol's server metadata. */
final class ServerInfo {
    private ServerInfo() {
    }

    static String version() {
        String v = ServerInfo.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
