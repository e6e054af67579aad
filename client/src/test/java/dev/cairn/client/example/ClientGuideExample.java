package dev.cairn.client.example;

// docs/client.md shows this file from the line after "example:start" to "example:end"; the
// build compiles it and ClientGuideTest checks the page shows exactly this code.
// example:start
import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.GetResult;
import dev.cairn.client.PutResult;
import dev.cairn.config.ClientConfig;
import dev.cairn.engine.manifest.ImageInfo;
import java.nio.file.Path;

public class ClientGuideExample {

    public static void main(String[] args) {
        // One node is enough: the client learns the rest of the cluster from it.
        ClientConfig config = ClientConfig.parse(System.getenv("CAIRN_CLUSTER"));
        try (CairnClient cairn = CairnClient.connect(config)) {
            // Returns once every chunk is fsync'd on N_W nodes and the image is committed in Raft.
            PutResult put = cairn.put("job-7/ckpt-1", Path.of(args[0]),
                    (done, total) -> System.err.printf("\r%d / %d bytes", done, total));
            System.out.println("stored " + put.logicalBytes() + " bytes, sent " + put.sentBytes()
                    + ", commit index " + put.commitIndex());

            for (ImageInfo image : cairn.list("job-7/")) {
                System.out.println(image.name() + " " + image.root().logicalBytes());
            }

            // Every chunk is checked against its SHA-256; files and directories are fsync'd.
            GetResult got = cairn.get("job-7/ckpt-1", Path.of(args[1]));
            System.out.println("restored " + got.entries() + " entries");
        } catch (CairnException.ImageExists e) {
            System.err.println("images are immutable; pick a new name: " + e.getMessage());
        } catch (CairnException.QuorumUnavailable e) {
            System.err.println("not enough nodes answer; retry later: " + e.getMessage());
        } catch (CairnException e) {
            System.err.println(e.getMessage()); // one line that says what to do
        }
    }
}
// example:end
