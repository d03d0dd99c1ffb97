import { serverOf } from "./cli-runs.ts";
import type { Runtime } from "./contracts/runtime.ts";
import { type ApiToken, ROLES, type Role } from "./contracts/tokens.ts";
import { HooklineError } from "./errors.ts";

/**
 * `hookline tokens create NAME --role ROLE | list | revoke ID`: API tokens on a running server
 * (`--url`, else HOOKLINE_URL, else http://127.0.0.1:8080), with HOOKLINE_ADMIN_TOKEN. `create`
 * prints the secret once, on its own line (for `$(…)`), and what it is on stderr.
 *
 * @example await tokensCommand(runtime, ["create", "ci"], { role: "publisher" })
 */
export async function tokensCommand(
  runtime: Runtime,
  args: string[],
  options: { url?: string; role?: string },
): Promise<number> {
  const [action, arg] = args;
  const { base, ask } = serverOf(runtime, options.url);
  const call = async (method: string, path: string, body?: unknown) => {
    const answer = await ask(method, path, body);
    if (answer.status === 401 || answer.status === 403)
      throw new HooklineError(
        "HOOKLINE_USAGE",
        `${base} refused: HOOKLINE_ADMIN_TOKEN must be an admin token`,
      );
    const text = await answer.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!answer.ok)
      throw new HooklineError(
        "HOOKLINE_USAGE",
        `${base} answered ${answer.status}: ${String(json.error ?? text)}`,
      );
    return json;
  };
  switch (action) {
    case "create": {
      if (!arg) throw new HooklineError("HOOKLINE_USAGE", "tokens create needs a NAME");
      const role = options.role as Role | undefined;
      if (!role || !ROLES.includes(role))
        throw new HooklineError("HOOKLINE_USAGE", `tokens create needs --role, one of: ${ROLES.join(", ")}`);
      const made = (await call("POST", "/v1/tokens", { name: arg, role })) as {
        token: ApiToken;
        secret: string;
      };
      runtime.stderr(
        `created ${made.token.id} (${made.token.role}) "${made.token.name}"; its secret, shown once:`,
      );
      runtime.stdout(made.secret);
      return 0;
    }
    case "list": {
      const { tokens } = (await call("GET", "/v1/tokens")) as { tokens: ApiToken[] };
      for (const t of tokens)
        runtime.stdout(
          [t.id, t.role.padEnd(9), t.createdAt, t.revokedAt ? `revoked ${t.revokedAt}` : "live", t.name].join(
            "  ",
          ),
        );
      return 0;
    }
    case "revoke": {
      if (!arg) throw new HooklineError("HOOKLINE_USAGE", "tokens revoke needs the token's ID");
      await call("DELETE", `/v1/tokens/${encodeURIComponent(arg)}`);
      runtime.stdout(`revoked ${arg}`);
      return 0;
    }
    default:
      throw new HooklineError(
        "HOOKLINE_USAGE",
        `tokens: expected create, list or revoke, got "${action ?? ""}"`,
      );
  }
}
