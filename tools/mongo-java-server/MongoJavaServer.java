// The MongoDB-semantics test server (docs/ferretdb.md, "Test lanes"): mongo-java-server
// 1.47.0's in-memory backend on a loopback port, with two changes:
//
// 1. Wire version 13 (MongoDB 5.0) in isMaster/hello. mongo-java-server 1.47.0 says 8
//    (MongoDB 4.2) and pymongo 4.20 refuses anything below 9 (MongoDB 4.4). The backend
//    takes any MongoVersion, so a two-method MongoVersion sets it; buildInfo then says
//    5.0.0 and has no ferretdbVersion, so the app runs its MongoDB code paths (no locks).
//    "hello" (which the backend does not know) is answered like isMaster.
//
// 2. Every command runs under one lock and its reply is deep-copied before the lock is
//    released. The memory backend answers findAndModify and find with the stored documents
//    themselves and Netty encodes the reply after the collection's lock is gone, so a
//    concurrent update could change a document between "updated" and "sent": two $inc
//    calls then both returned the second value (16 duplicate post-images in 1,000
//    increments from 8 threads). MongoDB returns the image as of the update. Running
//    commands one at a time is a valid MongoDB schedule (each command is atomic), and
//    races between commands, the ones the application must handle, stay possible.
//    `--upstream-replies` turns this off, to reproduce the library's behaviour.
//
// Usage: java -jar mongo-java-server.jar --listen-addr=127.0.0.1:27018 [--upstream-replies]

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.message.MongoQuery;
import io.netty.channel.Channel;

public final class MongoJavaServer {

    static final MongoVersion MONGO_5_0_WIRE_13 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 13;
        }
    };

    static final class Backend extends MemoryBackend {
        private final ReentrantLock lock = new ReentrantLock(true);
        private final boolean snapshotReplies;

        Backend(boolean snapshotReplies) {
            this.snapshotReplies = snapshotReplies;
        }

        @Override
        public Document handleCommand(Channel channel, String database, String command, Document query) {
            if (command.equalsIgnoreCase("hello")) {
                Document reply = handleCommand(channel, database, "isMaster", query);
                reply.put("isWritablePrimary", Boolean.TRUE);
                return reply;
            }
            if (!snapshotReplies) {
                return super.handleCommand(channel, database, command, query);
            }
            lock.lock();
            try {
                Document reply = super.handleCommand(channel, database, command, query);
                return reply == null ? null : reply.cloneDeeply();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public QueryResult handleQuery(MongoQuery query) {
            // Legacy OP_QUERY on a collection (pymongo 4 never sends it): same rule.
            if (!snapshotReplies) {
                return super.handleQuery(query);
            }
            lock.lock();
            try {
                QueryResult result = super.handleQuery(query);
                List<Document> copies = result.collectDocuments().stream().map(Document::cloneDeeply).toList();
                return new QueryResult(copies, result.getCursorId());
            } finally {
                lock.unlock();
            }
        }
    }

    public static void main(String[] args) throws InterruptedException {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        String host = "127.0.0.1";
        int port = 27018;
        boolean snapshotReplies = true;
        for (String arg : args) {
            if (arg.startsWith("--listen-addr=")) {
                String addr = arg.substring("--listen-addr=".length());
                int colon = addr.lastIndexOf(':');
                host = addr.substring(0, colon);
                port = Integer.parseInt(addr.substring(colon + 1));
            } else if (arg.equals("--upstream-replies")) {
                snapshotReplies = false;
            } else {
                System.err.println("usage: MongoJavaServer --listen-addr=HOST:PORT [--upstream-replies]");
                System.exit(2);
            }
        }
        Backend backend = new Backend(snapshotReplies);
        backend.version(MONGO_5_0_WIRE_13);
        MongoServer server = new MongoServer(backend);
        server.bind(new InetSocketAddress(host, port));
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "shutdown"));
        System.out.println("mongo-java-server 1.47.0 (memory, wire 13, "
            + (snapshotReplies ? "serialized commands" : "upstream replies") + ") listening on "
            + server.getConnectionString());
        System.out.flush();
        Thread.currentThread().join();
    }
}
