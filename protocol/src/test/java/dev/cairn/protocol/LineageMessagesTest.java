package dev.cairn.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The parent of an image on the wire: an optional commit field and an optional section of image lists. */
class LineageMessagesTest {

    private static final ImageName PARENT = new ImageName("job/ckpt-1");
    private static final ImageName CHILD = new ImageName("job/ckpt-2");

    @Test
    void aCommitCarriesItsParentAsATrailingField() {
        ImageMessages.CallId call = new ImageMessages.CallId(UUID.randomUUID(), 3);
        ImageMessages.CommitImage commit = new ImageMessages.CommitImage(CHILD, MessagesTest.root(1), call,
                UUID.randomUUID(), 10, true, PARENT);
        assertEquals(commit, ImageMessages.CommitImage.decode(commit.encode()));
        ImageMessages.CommitImage plain = new ImageMessages.CommitImage(CHILD, MessagesTest.root(1), call,
                commit.session(), 10, true);
        ByteBuffer plainBytes = plain.encode();
        assertEquals(plainBytes.remaining() + 1 + 2 + PARENT.value().length(), commit.encode().remaining(),
                "the parent is the only addition");
        assertEquals(plain, ImageMessages.CommitImage.decode(plainBytes));
    }

    @Test
    void imageListsCarryParentsOnlyWhenAnImageHasOne() {
        ImageInfo parent = new ImageInfo(PARENT, MessagesTest.root(1), 5);
        ImageInfo child = new ImageInfo(CHILD, MessagesTest.root(2), 6, PARENT);
        int plainLength = ImageMessages.encodeImages(List.of(new ImageInfo(CHILD, child.root(), 6))).remaining();
        assertEquals(List.of(parent), ImageMessages.decodeImages(ImageMessages.encodeImages(List.of(parent))));
        assertEquals(List.of(parent, child), ImageMessages.decodeImages(ImageMessages.encodeImages(List.of(parent, child))));
        ImageMessages.SessionImages answer = new ImageMessages.SessionImages(List.of(child, parent), 77);
        assertEquals(answer, ImageMessages.SessionImages.decode(answer.encode()));
        assertEquals(plainLength + 1 + 2 + PARENT.value().length(), ImageMessages.encodeImages(List.of(child)).remaining(),
                "the lineage section is the only addition, and only when an image has a parent");

        ByteBuffer bad = ImageMessages.encodeImages(List.of(child));
        bad.put(plainLength, (byte) 9);
        assertThrows(ProtocolException.class, () -> ImageMessages.decodeImages(bad));
    }
}
