package dev.cairn.client.criu;

import static dev.cairn.it.CliTest.cairn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.GetResult;
import dev.cairn.client.ProgressListener;
import dev.cairn.client.RestoreOptions;
import dev.cairn.engine.ImageName;
import dev.cairn.it.TestCluster;
import dev.cairn.it.CliTest.Run;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CRIU's incremental images on a real 3-node cluster: a chain of three dumps whose pagemaps (built
 * here) mix present, in-parent and lazy entries. Put records each parent, stat shows it, rm keeps
 * a parent while a child names it, get brings the chain back beside DEST, and get --flatten
 * writes one image whose pages are the right ones and whose pagemap has no in-parent entry.
 */
class LineageTest {

    private static final int PAGE = PageServerCodec.PAGE_BYTES;
    private static final long BASE = 0x7f00_0000_0000L;

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;
    static byte[] pages1;
    static byte[] pages2;
    static byte[] pages3;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
        client = cluster.client();
        Random random = new Random(11);
        pages1 = random(random, 6);
        pages2 = random(random, 3);
        pages3 = random(random, 1);
        // ckpt-1: pages 0-3 present, 8-9 lazy and present.
        PagemapImage one = new PagemapImage(1, 100);
        one.add(BASE, 4, PageFlags.PRESENT);
        one.add(BASE + 8L * PAGE, 2, PageFlags.LAZY | PageFlags.PRESENT);
        dump("ckpt-1", null, one, pages1);
        // ckpt-2: pages 0-1 new, 2-3 and 8-9 in ckpt-1, page 20 new.
        PagemapImage two = new PagemapImage(1, 100);
        two.add(BASE, 2, PageFlags.PRESENT);
        two.add(BASE + 2L * PAGE, 2, PageFlags.PARENT);
        two.add(BASE + 8L * PAGE, 2, PageFlags.PARENT);
        two.add(BASE + 20L * PAGE, 1, PageFlags.PRESENT);
        dump("ckpt-2", "../ckpt-1", two, pages2);
        // ckpt-3: pages 0-3 in its parent (0-1 in ckpt-2, 2-3 two steps up), 8 likewise, 9 new and lazy, 20 in ckpt-2.
        PagemapImage three = new PagemapImage(1, 100);
        three.add(BASE, 4, PageFlags.PARENT);
        three.add(BASE + 8L * PAGE, 1, PageFlags.PARENT);
        three.add(BASE + 9L * PAGE, 1, PageFlags.LAZY | PageFlags.PRESENT);
        three.add(BASE + 20L * PAGE, 1, PageFlags.PARENT);
        dump("ckpt-3", "../ckpt-2", three, pages3);

        client.put("job/ckpt-1", dir.resolve("dumps/ckpt-1"));
        client.put("job/ckpt-2", dir.resolve("dumps/ckpt-2"));
        client.put("job/ckpt-3", dir.resolve("dumps/ckpt-3"));
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static byte[] random(Random random, int count) {
        byte[] b = new byte[count * PAGE];
        random.nextBytes(b);
        return b;
    }

    private static void dump(String name, String parentLink, PagemapImage pagemap, byte[] pages) throws Exception {
        Path d = Files.createDirectories(dir.resolve("dumps").resolve(name));
        Files.write(d.resolve("pagemap-42.img"), pagemap.bytes());
        Files.write(d.resolve("pages-1.img"), pages);
        Files.writeString(d.resolve("core-42.img"), "core of " + name);
        if (parentLink != null) {
            Files.createSymbolicLink(d.resolve("parent"), Path.of(parentLink));
        }
    }

    private static byte[] page(byte[] pages, int index) {
        return Arrays.copyOfRange(pages, index * PAGE, (index + 1) * PAGE);
    }

    @Test
    void putRecordsTheParentItsLinkNamesAndStatShowsIt() {
        assertNull(client.stat("job/ckpt-1").parent());
        assertEquals(new ImageName("job/ckpt-1"), client.stat("job/ckpt-2").parent());
        assertEquals(new ImageName("job/ckpt-2"), client.stat("job/ckpt-3").parent());
        assertEquals(new ImageName("job/ckpt-1"), client.list("job/").get(1).parent());

        Run stat = cairn("stat", "job/ckpt-3", "--cluster", cluster.endpoints(), "--json");
        assertEquals(0, stat.code(), stat.err());
        assertTrue(stat.out().contains("parent:       job/ckpt-2\n"), stat.out());
        assertTrue(stat.out().strip().endsWith("\"parent\":\"job/ckpt-2\"}"), stat.out());
    }

    @Test
    void aParentThatIsNotStoredFailsThePutAndNothingIsStored() throws Exception {
        Path orphan = Files.createDirectories(dir.resolve("dumps/orphan"));
        Files.writeString(orphan.resolve("core-1.img"), "core");
        Files.createSymbolicLink(orphan.resolve("parent"), Path.of("../ckpt-0"));
        CairnException.ImageNotFound e = assertThrows(CairnException.ImageNotFound.class,
                () -> client.put("job/orphan", orphan));
        assertTrue(e.getMessage().contains("image job/ckpt-0, is not stored; put job/ckpt-0 first"), e.getMessage());
        assertTrue(e.getMessage().contains("--parent"), e.getMessage());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("job/orphan"));

        // --parent names it explicitly, over the link; the link is stored as it was.
        client.put("other/orphan", orphan, "job/ckpt-1", ProgressListener.NONE);
        assertEquals(new ImageName("job/ckpt-1"), client.stat("other/orphan").parent());
        assertEquals("../ckpt-0", client.manifest("other/orphan").entries().stream()
                .filter(f -> f.path().equals("parent")).findFirst().orElseThrow().linkTarget());
        client.delete("other/orphan");

        Path absolute = Files.createDirectories(dir.resolve("dumps/absolute"));
        Files.createSymbolicLink(absolute.resolve("parent"), dir.resolve("dumps/ckpt-1"));
        CairnException.InvalidName bad = assertThrows(CairnException.InvalidName.class,
                () -> client.put("job/absolute", absolute));
        assertTrue(bad.getMessage().contains("with --parent NAME"), bad.getMessage());
    }

    @Test
    void aParentIsNotRemovedWhileAChildNamesIt() throws Exception {
        CairnException.ImageInUse e = assertThrows(CairnException.ImageInUse.class, () -> client.delete("job/ckpt-1"));
        assertTrue(e.getMessage().contains("image job/ckpt-1 is the parent of image job/ckpt-2"), e.getMessage());
        assertTrue(e.getMessage().contains("remove job/ckpt-2 first"), e.getMessage());
        assertEquals(new ImageName("job/ckpt-1"), client.stat("job/ckpt-1").name());

        Run rm = cairn("rm", "job/ckpt-2", "--cluster", cluster.endpoints());
        assertEquals(1, rm.code());
        assertTrue(rm.err().startsWith("cairn: image job/ckpt-2 is the parent of image job/ckpt-3"), rm.err());

        int httpPort = cluster.server(0).config().self().httpPort();
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + httpPort + "/v1/images/job/ckpt-1")).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(409, answer.statusCode());
        assertTrue(answer.body().startsWith("{\"error\":\"image job/ckpt-1 is the parent of image job/ckpt-2"),
                answer.body());
    }

    @Test
    void getBringsTheChainBackWhereTheLinksPoint() throws Exception {
        Path dest = dir.resolve("restore/ckpt-3");
        List<GetResult> written = client.getWithParents("job/ckpt-3", dest, RestoreOptions.DEFAULT, ProgressListener.NONE);
        assertEquals(List.of("job/ckpt-3", "job/ckpt-2", "job/ckpt-1"), written.stream().map(GetResult::name).toList());
        for (String name : List.of("ckpt-1", "ckpt-2", "ckpt-3")) {
            Path restored = dir.resolve("restore").resolve(name);
            Path dumped = dir.resolve("dumps").resolve(name);
            assertArrayEquals(Files.readAllBytes(dumped.resolve("pagemap-42.img")),
                    Files.readAllBytes(restored.resolve("pagemap-42.img")), name);
            assertArrayEquals(Files.readAllBytes(dumped.resolve("pages-1.img")),
                    Files.readAllBytes(restored.resolve("pages-1.img")), name);
        }
        assertEquals(Path.of("../ckpt-2"), Files.readSymbolicLink(dest.resolve("parent")));
        assertEquals("core of ckpt-1", Files.readString(dest.resolve("parent/parent/core-42.img")));
    }

    @Test
    void aPlaceTakenForAParentRefusesTheGetBeforeAnythingIsWritten() throws Exception {
        Path taken = Files.createDirectories(dir.resolve("taken/ckpt-1"));
        Files.writeString(taken.resolve("mine"), "keep");
        Run get = cairn("get", "job/ckpt-3", dir.resolve("taken/ckpt-3").toString(), "--cluster", cluster.endpoints());
        assertEquals(1, get.code());
        assertTrue(get.err().contains("the parent of job/ckpt-2"), get.err());
        assertTrue(get.err().contains("nothing was written"), get.err());
        assertFalse(Files.exists(dir.resolve("taken/ckpt-3")), "the image itself was not written either");
        assertFalse(Files.exists(dir.resolve("taken/ckpt-2")));
        assertEquals("keep", Files.readString(taken.resolve("mine")));
    }

    @Test
    void aLinkThatPointsAnywhereButBesideDestRefusesTheGet() throws Exception {
        Path far = Files.createDirectories(dir.resolve("dumps/far"));
        Files.writeString(far.resolve("core-1.img"), "far");
        client.put("elsewhere/base", far);
        Path climbing = Files.createDirectories(dir.resolve("dumps/climbing"));
        Files.createSymbolicLink(climbing.resolve("parent"), Path.of("../../elsewhere/base"));
        client.put("job/climbing", climbing);
        assertEquals(new ImageName("elsewhere/base"), client.stat("job/climbing").parent());

        Path dest = dir.resolve("climb/job/climbing");
        CairnException.LocalIo e = assertThrows(CairnException.LocalIo.class, () -> client.getWithParents(
                "job/climbing", dest, RestoreOptions.DEFAULT, ProgressListener.NONE));
        assertTrue(e.getMessage().contains("not beside " + dest), e.getMessage());
        assertTrue(e.getMessage().contains("use get --flatten; nothing was written"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("climb")));
        client.delete("job/climbing");
        client.delete("elsewhere/base");
    }

    @Test
    void flattenWritesEveryPageFromTheChainAndNoInParentEntry() throws Exception {
        Path dest = dir.resolve("flat/ckpt-3");
        Run get = cairn("get", "--flatten", "job/ckpt-3", dest.toString(), "--cluster", cluster.endpoints(), "--json");
        assertEquals(0, get.code(), get.err());
        assertTrue(get.out().contains("flattened job/ckpt-3: 1 pagemaps rewritten, 6 pages (24.0 KiB) copied in from its"
                + " parents"), get.out());
        assertTrue(get.out().contains("\"pagesFromParents\":6"), get.out());

        StoredPagemap flat = StoredPagemap.parse("pagemap-42.img", Files.readAllBytes(dest.resolve("pagemap-42.img")));
        assertEquals(1, flat.pagesId());
        assertEquals(List.of(
                new StoredPagemap.Entry(BASE, 4, PageFlags.PRESENT, 0),
                new StoredPagemap.Entry(BASE + 8L * PAGE, 1, PageFlags.PRESENT, 4),
                new StoredPagemap.Entry(BASE + 9L * PAGE, 1, PageFlags.LAZY | PageFlags.PRESENT, 5),
                new StoredPagemap.Entry(BASE + 20L * PAGE, 1, PageFlags.PRESENT, 6)), flat.entries());
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(page(pages2, 0)); // ckpt-2's own pages 0-1
        expected.writeBytes(page(pages2, 1));
        expected.writeBytes(page(pages1, 2)); // 2-3: in-parent in ckpt-2 too, so ckpt-1's
        expected.writeBytes(page(pages1, 3));
        expected.writeBytes(page(pages1, 4)); // 8: ckpt-1's lazy page
        expected.writeBytes(page(pages3, 0)); // 9: ckpt-3's own
        expected.writeBytes(page(pages2, 2)); // 20: ckpt-2's
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(dest.resolve("pages-1.img")));
        assertFalse(Files.exists(dest.resolve("parent"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals("core of ckpt-3", Files.readString(dest.resolve("core-42.img")));
        try (var files = Files.list(dest.getParent())) {
            assertEquals(List.of(dest), files.toList(), "no parent was written beside it");
        }
    }

    /**
     * GC has no lineage rule of its own: a parent stays while a child names it, so its manifest
     * keeps its chunks live. After an epoch that swept, the chain still restores byte for byte.
     */
    @Test
    void gcKeepsEveryPageAChildNeedsBecauseTheParentStays() throws Exception {
        client.put("gc/doomed", new java.io.ByteArrayInputStream(random(new Random(3), 4)));
        client.delete("gc/doomed");
        assertTrue(dev.cairn.client.CairnAdmin.of(client).gc(java.time.Duration.ofSeconds(60)).completed());

        Path dest = dir.resolve("after-gc/ckpt-3");
        client.getWithParents("job/ckpt-3", dest, RestoreOptions.DEFAULT, ProgressListener.NONE);
        for (String name : List.of("ckpt-1", "ckpt-2", "ckpt-3")) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("dumps").resolve(name).resolve("pages-1.img")),
                    Files.readAllBytes(dir.resolve("after-gc").resolve(name).resolve("pages-1.img")), name);
        }
    }


}
