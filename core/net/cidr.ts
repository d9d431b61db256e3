import net from 'node:net';

/**
 * A comma-separated list of IP addresses and CIDRs (IPv4 and IPv6) as a node:net BlockList; throws on
 * a bad entry. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match their IPv4 rules.
 */
export function parseCidrList(value: string): net.BlockList {
  const list = new net.BlockList();
  for (const raw of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [addr, bits] = raw.split('/');
    const family = net.isIP(addr ?? '');
    if (!family) throw new Error(`"${raw}" is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) {
      list.addAddress(addr!, type);
      continue;
    }
    const prefix = Number(bits);
    if (!/^\d+$/.test(bits) || prefix > (family === 6 ? 128 : 32)) throw new Error(`"${raw}" has a bad prefix length`);
    list.addSubnet(addr!, prefix, type);
  }
  return list;
}

/** Whether the address (as Express gives it, possibly ::ffff:-mapped) is in the list. */
export function inCidrList(list: net.BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return list.check(mapped, 'ipv4');
  const family = net.isIP(address);
  if (!family) return false;
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}
