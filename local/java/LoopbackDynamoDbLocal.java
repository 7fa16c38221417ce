/*
 * Starts DynamoDB Local listening on 127.0.0.1 only. Its jar takes no option for the interface
 * and binds every one, which would put an unauthenticated copy of the local cluster's tables
 * (node token hashes included) on the network of any machine running `npm start` or the tests.
 *
 * It builds the server exactly as the jar's own main does (ServerRunner, from the same
 * command-line options), sets the host of its Jetty connectors before they open, then starts
 * it. The connectors are reached through DynamoDBProxyServer's private `server` field, which the
 * jar offers no accessor for: local/dynamodb-local.ts compiles this file once per machine and
 * test/integration/emulators.test.ts checks that the port answers on loopback and on no other
 * interface, so a DynamoDB Local release that changes the field fails there, not silently.
 */
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDbLocal {
  static final String LISTENING = "LoopbackDynamoDbLocal: listening";

  private LoopbackDynamoDbLocal() {}

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
    // local/dynamodb-local.ts waits for this line: before it, an answer on the port may come from
    // another process that took the port first, not from this server.
    System.out.println(LISTENING);
    System.out.flush();
    proxy.join();
  }
}
