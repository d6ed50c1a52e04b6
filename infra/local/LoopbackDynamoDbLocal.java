/*
 * Starts DynamoDB Local listening on 127.0.0.1 only (docs/security.md "Local mode").
 *
 * DynamoDB Local has no bind option (its options: -port, -inMemory, -dbPath, -sharedDb, -cors,
 * -delayTransientStatuses, -optimizeDbBeforeStartup, -disableTelemetry; "DynamoDB local usage
 * notes", Command line options), and its DynamoDBProxyServer builds a Jetty Server(port),
 * whose connector binds every interface. This launcher builds the server from the same
 * command line (ServerRunner.createServerFromCommandLineArgs), sets the connector's host to
 * 127.0.0.1 before it starts, and starts it: the same server, reachable from this machine only.
 * infra/local/dynamodb-local.ts compiles it once (javac of the JDK's jdk.compiler module) and
 * falls back to the plain jar, with a warning, where Java has no compiler.
 *
 * Binding to loopback does not stop a web page from reaching it through DNS rebinding (a name
 * of the page's site that resolves to 127.0.0.1), and DynamoDB Local accepts any signature: so
 * the server also answers only requests whose Host is a loopback name (127.0.0.1, localhost,
 * [::1], with any port), and 421 Misdirected Request to anything else, as the HTTP front does.
 */
import java.lang.reflect.Field;
import java.util.Locale;
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
  private LoopbackDynamoDbLocal() {}

  /** Host names this server answers: loopback only, with or without a port. */
  static boolean loopbackHost(String host) {
    if (host == null) return false;
    String name = host.trim().toLowerCase(Locale.ROOT);
    if (name.startsWith("[::1]")) return name.equals("[::1]") || name.matches("\\[::1\\]:\\d{1,5}");
    return name.matches("(127\\.0\\.0\\.1|localhost)(:\\d{1,5})?");
  }

  /** Refuses (421) any request whose Host is not a loopback name, before DynamoDB Local sees it. */
  static final class LoopbackHostOnly extends Handler.Wrapper {
    LoopbackHostOnly(Handler inner) {
      super(inner);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      if (!loopbackHost(request.getHeaders().get(HttpHeader.HOST))) {
        Response.writeError(request, response, callback, 421, "this server answers loopback host names only");
        return true;
      }
      return super.handle(request, response, callback);
    }
  }

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    for (Connector connector : connectors) {
      if (!(connector instanceof ServerConnector)) throw new IllegalStateException("unexpected connector " + connector);
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    server.setHandler(new LoopbackHostOnly(server.getHandler()));
    proxy.start();
    for (Connector connector : connectors) {
      System.out.println("fledge: DynamoDB Local listens on " + ((ServerConnector) connector).getHost() + ":" + ((ServerConnector) connector).getLocalPort());
    }
  }
}
