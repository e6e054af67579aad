package dev.cairn.client;

/**
 * What a get restored.
 *
 * @param name the image
 * @param logicalBytes bytes written
 * @param entries files, directories and symlinks restored
 * @param chunks chunk references read
 */
public record GetResult(String name, long logicalBytes, long entries, long chunks) {}
