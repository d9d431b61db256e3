import selfsigned from 'selfsigned';

let cached: Promise<{ key: string; cert: string }> | undefined;

/** A self-signed certificate for 127.0.0.1 and localhost, made once per process. */
export function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  cached ??= (async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      days: 30,
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    } as never);
    return { key: pems.private, cert: pems.cert };
  })();
  return cached;
}
