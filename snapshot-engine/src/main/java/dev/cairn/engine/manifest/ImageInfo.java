package dev.cairn.engine.manifest;

import dev.cairn.engine.ImageName;

/** A catalog entry: an image's name, its root and the Raft index at which it was committed. */
public record ImageInfo(ImageName name, ImageRoot root, long commitIndex) {}
