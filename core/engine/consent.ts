import type { HooklineConfig } from "../config/schema.ts";
import type { Catalogue } from "../contracts/catalogue.ts";
import type { ConsentCheck, ConsentQuestion } from "../contracts/consent.ts";
import type { SqlExecutor } from "../contracts/sql.ts";
import type { ClaimedDelivery, DeliveryResult } from "../contracts/store.ts";
import { HooklineError } from "../errors.ts";
import { queuePlace } from "./deliver.ts";
import type { FailBranch } from "./fail-branch.ts";
import { consentOf } from "./outbox.ts";

/** The deliveries to send, and the results of those skipped for want of consent (to record). */
export interface Screened {
  send: ClaimedDelivery[];
  skipped: DeliveryResult[];
}

/**
 * Consent at send time: before a claimed batch goes out, the deliveries whose webhook names
 * `consent` (or that carry a trigger's or a send's, `withConsent`) are checked in one query; a
 * customer with none of a requirement's objectives granted — never given, or withdrawn since the
 * delivery was queued — is not sent. Its delivery ends `skipped` (reason `consent: …`), without an
 * attempt, into the webhook's fail branch. Deliveries that need no consent cost a property test.
 *
 * @example const { send, skipped } = await screen.screen(claimed);
 */
export class ConsentScreen {
  constructor(
    private readonly o: {
      catalogue: Pick<Catalogue, "webhooks">;
      /** The plugin's check; without one, every delivery needing consent is skipped (never sent unchecked). */
      check?: ConsentCheck;
      sql: SqlExecutor;
      failBranch?: FailBranch;
    },
  ) {}

  /** Splits claimed deliveries into those to send and those skipped; one query when any needs consent. */
  async screen(claimed: ClaimedDelivery[]): Promise<Screened> {
    let questions: ConsentQuestion[] | undefined;
    let asking: Array<{ delivery: ClaimedDelivery; from: number; to: number }> | undefined;
    for (const d of claimed) {
      const own = this.o.catalogue.webhooks.get(d.webhook)?.config.consent;
      const carried = d.context.consent === undefined ? undefined : consentOf(d.context);
      if (!own && !carried?.length) continue;
      const lists = own ? [own, ...(carried ?? [])] : carried!;
      questions ??= [];
      asking ??= [];
      const from = questions.length;
      // Without a customer there is no one whose consent could be asked: an empty id matches no profile.
      for (const objectives of lists) questions.push({ customerId: d.customerId ?? "", objectives });
      asking.push({ delivery: d, from, to: questions.length });
    }
    if (!questions || !asking) return { send: claimed, skipped: [] };
    const granted = this.o.check ? await this.o.check.granted(this.o.sql, questions) : new Set<number>();
    const refused = new Map<string, string>();
    for (const a of asking)
      for (let i = a.from; i < a.to; i++)
        if (!granted.has(i)) {
          refused.set(a.delivery.id, reasonOf(questions[i]!, this.o.check !== undefined));
          break;
        }
    if (refused.size === 0) return { send: claimed, skipped: [] };
    return {
      send: claimed.filter((d) => !refused.has(d.id)),
      skipped: claimed.filter((d) => refused.has(d.id)).map((d) => this.skip(d, refused.get(d.id)!)),
    };
  }

  /** The result that records a delivery as skipped (its attempt is not stored) and its fail branch. */
  private skip(delivery: ClaimedDelivery, reason: string): DeliveryResult {
    const result: DeliveryResult = {
      ...queuePlace(delivery),
      attempt: {
        deliveryId: delivery.id,
        number: delivery.attempts,
        startedAt: new Date().toISOString(),
        durationMs: 0,
        request: { method: "", url: "", headers: {} },
        errorClass: "consent",
        error: reason,
        outcome: "skipped",
      },
      next: { status: "skipped", reason },
      delivery,
    };
    const branch = this.o.failBranch?.of({ delivery, status: "skipped", reason });
    if (branch && branch.length > 0) result.followUps = branch;
    return result;
  }
}

const reasonOf = (q: ConsentQuestion, checked: boolean): string =>
  !checked
    ? "consent: no plugin checks consents"
    : q.customerId === ""
      ? "consent: the delivery has no customer"
      : `consent: none of ${q.objectives.join(", ")} granted`;

/**
 * Refuses to start an app whose config names consent (a webhook's or a trigger's `consent`) when no
 * plugin checks consents: such deliveries could only ever be skipped.
 *
 * @example if (!check) refuseUncheckedConsent(config); // throws HOOKLINE_CONSENT_UNCHECKED naming them
 */
export function refuseUncheckedConsent(config: Pick<HooklineConfig, "webhooks" | "triggers">): void {
  const needing = [
    ...Object.entries(config.webhooks)
      .filter(([, w]) => w.consent)
      .map(([name]) => `webhooks.${name}.consent`),
    ...config.triggers.flatMap((t, i) => (t.consent ? [`triggers[${i}].consent`] : [])),
  ];
  if (needing.length > 0)
    throw new HooklineError(
      "HOOKLINE_CONSENT_UNCHECKED",
      `${needing.join(", ")}: consent is needed, and no plugin checks consents (add the inbound plugin, which keeps them)`,
    );
}
