// RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as the platform's identity service checks it.
import { createHmac } from 'node:crypto';

function base32(s) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    const v = abc.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export const step = (ms = Date.now()) => Math.floor(ms / 1000 / 30);

/** The code of time step `s` for a base32 secret. */
export function totp(secret, s = step()) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(s));
  const mac = createHmac('sha1', base32(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}
