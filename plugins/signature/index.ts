import { z } from "zod";
import { type AuthProvider, type Plugin, Tokens } from "../../core/plugin/index.ts";
import { StandardWebhookSigner, secretBytes } from "./sign.ts";

export { type SignatureHeaders, StandardWebhookSigner, secretBytes } from "./sign.ts";

export const SignatureOptions = z
  .object({
    secrets: z
      .array(
        z.string().refine((s) => {
          try {
            secretBytes(s);
            return true;
          } catch {
            return false;
          }
        }, "a secret of the form whsec_<base64>"),
      )
      .min(1)
      .describe("signing secrets, all active (several during a rotation): secret, never exported"),
  })
  .strict();
export type SignatureOptions = z.output<typeof SignatureOptions>;

/**
 * Signs outbound requests per Standard Webhooks: `webhook-id` (the delivery's idempotency key, so a
 * retry carries the same id), `webhook-timestamp` (seconds) and `webhook-signature` (one `v1,…` per
 * secret) over `id.timestamp.body`. Receivers verify with any Standard Webhooks library.
 *
 * @example integrations: { signing: { kind: signature, endpointPrefix: "https://partner.example.com/hooks", secrets: ["${WEBHOOK_SECRET}"] } }
 */
export const signatureProvider: AuthProvider<SignatureOptions> = {
  kind: "signature",
  schema: SignatureOptions,
  secretFields: ["secrets"],
  create({ secrets }) {
    const signer = new StandardWebhookSigner(secrets);
    return {
      credentialHeaders: ["webhook-signature"],
      secrets: () => secrets.flatMap((s) => [s, s.slice("whsec_".length)]),
      async authorize(request) {
        // The core sets idempotency-key on deliveries; a test render has none, so it gets its own id.
        const id = request.headers["idempotency-key"] ?? `msg_${crypto.randomUUID()}`;
        const signed = await signer.sign({ id, body: request.body ?? "" });
        return { ...request, headers: { ...request.headers, ...signed } };
      },
    };
  },
};

/** @example createHookline({ plugins: [...defaultPlugins(), signature()] }) */
export const signature = (): Plugin => ({
  name: "signature",
  register(container) {
    container.register(Tokens.AuthProvider, { useValue: signatureProvider });
  },
});
