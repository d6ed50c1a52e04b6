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
 */
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDbLocal {
  private LoopbackDynamoDbLocal() {}

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
    proxy.start();
    for (Connector connector : connectors) {
      System.out.println("fledge: DynamoDB Local listens on " + ((ServerConnector) connector).getHost() + ":" + ((ServerConnector) connector).getLocalPort());
    }
  }
}
