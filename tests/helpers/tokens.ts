import { SignJWT } from 'jose';

/** A Supabase Auth access token as the project signs it (HS256, audience `authenticated`, 1 h). */
export function supabaseHsToken(secret: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .setAudience('authenticated')
    .sign(new TextEncoder().encode(secret));
}
