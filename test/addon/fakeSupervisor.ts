/**
 * A stand-in for the Supervisor's `GET /services/mqtt`, answering as documented (supervisor
 * api/services.py, api/utils.py api_process, api/middleware/security.py): 401 text without a
 * bearer token, 403 for an unknown token, 400 `{"result":"error","message":"Service not
 * enabled"}` when no add-on provides MQTT, else 200 `{"result":"ok","data":{...}}`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type SupervisorMode = "ok" | "not-enabled" | "hang" | "garbage";

export interface MqttServiceData {
  host: string;
  port: number;
  ssl: boolean;
  username: string;
  password: string;
}

export class FakeSupervisor {
  mode: SupervisorMode = "ok";
  readonly seenAuth: (string | undefined)[] = [];
  private readonly server: Server;

  constructor(
    readonly token: string,
    public mqtt: MqttServiceData,
  ) {
    this.server = createServer((req, res) => this.answer(req, res));
  }

  /** Listens on loopback; port 0 = any free port. Resolves to the base URL. */
  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, resolve);
    });
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  dropConnections(): void {
    this.server.closeAllConnections();
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    this.seenAuth.push(req.headers.authorization);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const auth = req.headers.authorization;
    if (!auth?.startsWith("Bearer ")) {
      res.writeHead(401, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("401: Unauthorized");
      return;
    }
    if (auth !== `Bearer ${this.token}`) {
      res.writeHead(403, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("403: Forbidden");
      return;
    }
    if (req.method !== "GET" || req.url !== "/services/mqtt") {
      json(404, { result: "error", message: "Not found" });
      return;
    }
    switch (this.mode) {
      case "ok":
        json(200, {
          result: "ok",
          data: { addon: "core_mosquitto", protocol: "3.1.1", ...this.mqtt },
        });
        return;
      case "not-enabled":
        json(400, { result: "error", message: "Service not enabled" });
        return;
      case "garbage":
        json(200, { result: "ok", data: { host: "", port: "x" } });
        return;
      case "hang":
        return; // never answers; the client's timeout must end the wait
    }
  }
}
