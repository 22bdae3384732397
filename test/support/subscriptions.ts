import WebSocket from 'ws';

/**
 * A minimal client of the graphql-transport-ws protocol (the one graphql-ws speaks), so tests can
 * subscribe over a real WebSocket without importing the ESM-only graphql-ws client into Jest.
 */
export class SubscriptionClient {
  private constructor(private readonly socket: WebSocket) {}

  static async connect(baseUrl: string, connectionParams: Record<string, unknown>): Promise<SubscriptionClient> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('close', (code) => reject(new Error(`socket closed with ${code}`)));
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })));
      socket.on('message', function onMessage(raw) {
        const message = JSON.parse(raw.toString());
        if (message.type === 'connection_ack') {
          socket.off('message', onMessage);
          resolve();
        }
      });
    });
    socket.removeAllListeners('close');
    socket.removeAllListeners('error');
    socket.on('error', () => undefined);
    return new SubscriptionClient(socket);
  }

  /** Collects `next` payloads until `until` returns true, an error arrives, or the timeout passes. */
  subscribe<T>(query: string, variables: Record<string, unknown>, until: (data: T) => boolean, timeoutMs = 60_000): Promise<{ messages: T[]; errors?: unknown }> {
    const id = String(Math.random()).slice(2);
    const messages: T[] = [];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off('message', onMessage);
        reject(new Error(`subscription timed out after ${messages.length} message(s)`));
      }, timeoutMs);
      const finish = (result: { messages: T[]; errors?: unknown }) => {
        clearTimeout(timer);
        this.socket.off('message', onMessage);
        this.socket.send(JSON.stringify({ id, type: 'complete' }));
        resolve(result);
      };
      const onMessage = (raw: WebSocket.RawData) => {
        const message = JSON.parse(raw.toString());
        if (message.id !== id) return;
        if (message.type === 'next') {
          if (message.payload.errors) return finish({ messages, errors: message.payload.errors });
          messages.push(message.payload.data);
          if (until(message.payload.data)) finish({ messages });
        } else if (message.type === 'error') {
          finish({ messages, errors: message.payload });
        } else if (message.type === 'complete') {
          finish({ messages });
        }
      };
      this.socket.on('message', onMessage);
      this.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    });
  }

  close(): void {
    this.socket.close();
  }
}
