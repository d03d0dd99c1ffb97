import type { ProfileReader } from "../../core/plugin/index.ts";
import { findProfileId, readProfile } from "./profile-repository.ts";

/**
 * The core's window on stored profiles (`Tokens.ProfileReader`): a profile by its id or one of its
 * identifiers (`email=ada@example.com`, or a bare email), as templates see it — its properties and
 * its id, as a profile update's events carry it.
 *
 * @example await profileReader.customer(host.sql, "ada@example.com") // { id: "prof_…", customer: { email: "ada@example.com", id: "prof_…" } }
 */
export const profileReader: ProfileReader = {
  async customer(sql, query) {
    const q = query.trim();
    if (!q) return undefined;
    const eq = q.indexOf("=");
    const id =
      eq > 0
        ? await findProfileId(sql, q.slice(0, eq).trim(), q.slice(eq + 1).trim())
        : q.includes("@")
          ? await findProfileId(sql, "email", q)
          : q;
    const profile = id ? await readProfile(sql, id) : undefined;
    return profile ? { id: profile.id, customer: { ...profile.properties, id: profile.id } } : undefined;
  },
};
