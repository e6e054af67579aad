package dev.cairn.server.meta;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Type;
import dev.cairn.server.meta.CatalogSessionMessages.CommitInSession;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The image requests of the catalog: commit and delete (writes), get and list (queries).
 * Their byte format is in {@link CatalogMessages}, with every other request's.
 */
final class CatalogImageMessages {

    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._/-]*");

    private CatalogImageMessages() {}

    /** A commit without a session; {@code parent} is the image's lineage (null for none). */
    record CommitImage(ImageName name, ImageRoot root, ImageName parent) implements Request {
        CommitImage {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(root, "root");
        }

        CommitImage(ImageName name, ImageRoot root) {
            this(name, root, null);
        }

        @Override
        public Type type() {
            return Type.COMMIT_IMAGE;
        }
    }

    record DeleteImage(ImageName name) implements Request {
        DeleteImage {
            Objects.requireNonNull(name, "name");
        }

        @Override
        public Type type() {
            return Type.DELETE_IMAGE;
        }
    }

    record GetImage(ImageName name) implements Request {
        GetImage {
            Objects.requireNonNull(name, "name");
        }

        @Override
        public Type type() {
            return Type.GET_IMAGE;
        }
    }

    record ListImages(String prefix, int limit) implements Request {
        ListImages {
            String problem = listProblem(prefix, limit);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
        }

        @Override
        public Type type() {
            return Type.LIST_IMAGES;
        }
    }

    /** Why a list request is not acceptable, or null when it is. */
    static String listProblem(String prefix, int limit) {
        if (prefix == null) {
            return "list prefix is null; use \"\" to list every image";
        }
        if (prefix.length() > ImageName.MAX_LENGTH || !PREFIX.matcher(prefix).matches()) {
            return "list prefix '" + prefix + "' is not a possible start of an image name "
                    + "(characters [A-Za-z0-9._-/], at most " + ImageName.MAX_LENGTH + ")";
        }
        if (limit < 1 || limit > CatalogMessages.MAX_LIST_LIMIT) {
            return "list limit " + limit + " is out of range 1.." + CatalogMessages.MAX_LIST_LIMIT;
        }
        return null;
    }

    // ---- lineage: a commit's parent travels in a WITH_PARENT wrapper (CatalogMessages writes it)

    /** The parent a commit names, or null (for every other request too). */
    static ImageName parentOf(Request request) {
        if (request instanceof CommitImage c) {
            return c.parent();
        }
        return request instanceof CommitInSession c ? c.parent() : null;
    }

    /** The commit {@code commit} (one with a parent) carries, as it is written inside the wrapper. */
    static Request withoutParent(Request commit) {
        if (commit instanceof CommitImage c) {
            return new CommitImage(c.name(), c.root());
        }
        CommitInSession c = (CommitInSession) commit;
        return new CommitInSession(c.name(), c.root(), c.sessionId(), c.leaderMillis(), c.closesSession());
    }

    /** The commit a WITH_PARENT entry wraps, with its parent set; anything else inside one is malformed. */
    static Request withParent(Request commit, ImageName parent) {
        if (commit instanceof CommitImage c && c.parent() == null) {
            return new CommitImage(c.name(), c.root(), parent);
        }
        if (commit instanceof CommitInSession c && c.parent() == null) {
            return new CommitInSession(c.name(), c.root(), c.sessionId(), c.leaderMillis(), c.closesSession(), parent);
        }
        throw new CatalogMessages.MalformedMessageException("a parent can only wrap a commit without one, not " + commit.type());
    }
}
