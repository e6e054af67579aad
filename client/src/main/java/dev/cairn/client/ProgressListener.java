package dev.cairn.client;

/** Told how far a put or get has come; called from the calling thread, often, so keep it cheap. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (done, total) -> {};

    /**
     * @param doneBytes logical bytes processed so far
     * @param totalBytes logical bytes in all, or -1 when unknown (a stream)
     */
    void onProgress(long doneBytes, long totalBytes);
}
