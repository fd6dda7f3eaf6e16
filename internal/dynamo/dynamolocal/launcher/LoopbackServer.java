import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackServer {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("crmbackup.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field f = DynamoDBProxyServer.class.getDeclaredField("server");
        f.setAccessible(true);
        Server server = (Server) f.get(proxy);
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) throw new IllegalStateException("no connector");
        for (Connector c : connectors) {
            ((ServerConnector) c).setHost(host);
        }
        proxy.start();
    }
}
