// Child: @seamapi/fake-seam-connect, seeded, on a fresh in-memory store. Prints READY <url>.
// The fake's listen(port) binds every interface; force 127.0.0.1 before it starts.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function patched(this: net.Server, ...args: unknown[]) {
  if (typeof args[0] === 'number') {
    const [port, ...rest] = args;
    const callback = rest.find((a) => typeof a === 'function');
    return listen.call(this, { port, host: '127.0.0.1' }, callback as () => void);
  }
  return (listen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;

const { createFake } = await import('@seamapi/fake-seam-connect');
const fake = await createFake();
await fake.seed();
const server = await fake.startServer({});
const address = (server as unknown as { server: net.Server }).server.address() as net.AddressInfo;
process.stdout.write(
  `READY ${JSON.stringify({
    url: `http://127.0.0.1:${address.port}`,
    apiKey: 'seam_apikey1_token',
    deviceId: 'august_device_1',
    boundTo: address.address,
  })}\n`,
);
process.on('SIGTERM', () => {
  void fake.stopServer();
  process.exit(0);
});
