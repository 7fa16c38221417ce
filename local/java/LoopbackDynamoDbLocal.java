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
 *
 * It also refuses (403) a request whose Host header does not name loopback: a web page the
 * developer visits could rebind its own name to 127.0.0.1 and, same-origin, read and write the
 * tables. The rule is local/loopback-host.cjs's (127.0.0.1, localhost, [::1], names under
 * .localhost, each with or without a port); test/integration/emulators.test.ts checks both.
 */
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
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
    server.insertHandler(new LoopbackHostOnly());
    proxy.start();
    // local/dynamodb-local.ts waits for this line: before it, an answer on the port may come from
    // another process that took the port first, not from this server.
    System.out.println(LISTENING);
    System.out.flush();
    proxy.join();
  }

  /** `name[:port]`, as local/loopback-host.cjs reads a Host header. */
  private static final Pattern HOST = Pattern.compile("^(\\[[0-9a-fA-F:.]+\\]|[^\\s:\\[\\]/@]+)(?::\\d{1,5})?$");

  static boolean isLoopbackHost(String header) {
    if (header == null) return false;
    Matcher match = HOST.matcher(header.trim());
    if (!match.matches()) return false;
    String name = match.group(1).toLowerCase(Locale.ROOT);
    return name.equals("127.0.0.1") || name.equals("localhost") || name.equals("[::1]") || name.endsWith(".localhost");
  }

  /** Serves a request only when its Host names loopback; answers any other 403 with a message. */
  private static final class LoopbackHostOnly extends Handler.Wrapper {
    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      String host = request.getHeaders().get(HttpHeader.HOST);
      if (isLoopbackHost(host)) return super.handle(request, response, callback);
      String given = host == null ? "A request without a Host header" : "Host '" + host + "'";
      String message =
          given
              + " is not a loopback name: DynamoDB Local serves only requests addressed to 127.0.0.1, localhost, [::1] or a name under .localhost"
              + " (with or without the port), so that a web page cannot reach it by rebinding its own name to this machine (DNS rebinding)";
      byte[] body = ("{\"__type\":\"com.amazonaws.dynamodb.v20120810#AccessDeniedException\",\"message\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}").getBytes(StandardCharsets.UTF_8);
      response.setStatus(403);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/x-amz-json-1.0");
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
      response.write(true, ByteBuffer.wrap(body), callback);
      return true;
    }
  }
}
