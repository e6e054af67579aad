package dev.cairn.protocol;

/** A frame or message that breaks the protocol: truncated, oversized, of unknown type or version. */
public final class ProtocolException extends RuntimeException {
    public ProtocolException(String message) {
        super(message);
    }
}
