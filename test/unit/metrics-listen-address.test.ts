// --metrics-listen HOST:PORT (src/metrics/listen-address.ts): what is taken as an address, what is
// refused with a sentence naming the text, and which hosts count as loopback (the only ones served
// without --metrics-listen-any).
import { expect } from 'chai';
import { isLoopback, parseListenAddress } from '../../src/metrics/index.js';

describe('metrics: --metrics-listen addresses', () => {
  it('reads HOST:PORT, [IPv6]:PORT and port 0 (any free port)', () => {
    expect(parseListenAddress('127.0.0.1:9477')).to.deep.equal({ host: '127.0.0.1', port: 9477 });
    expect(parseListenAddress('[::1]:9477')).to.deep.equal({ host: '::1', port: 9477 });
    expect(parseListenAddress('[::]:0')).to.deep.equal({ host: '::', port: 0 });
    expect(parseListenAddress('0.0.0.0:65535')).to.deep.equal({ host: '0.0.0.0', port: 65535 });
    expect(parseListenAddress('localhost:0')).to.deep.equal({ host: 'localhost', port: 0 });
    expect(parseListenAddress('metrics.example:8080')).to.deep.equal({ host: 'metrics.example', port: 8080 });
    expect(parseListenAddress(' 127.0.0.1:80\n'), 'surrounding blanks (an env file) are dropped').to.deep.equal({ host: '127.0.0.1', port: 80 });
  });

  it('refuses what is not HOST:PORT, with a sentence quoting it and an example', () => {
    for (const text of [
      '',
      '127.0.0.1',
      '127.0.0.1:',
      ':9477',
      '9477',
      '127.0.0.1:65536',
      '127.0.0.1:123456',
      '127.0.0.1:-1',
      '127.0.0.1:http',
      '127.0.0.1:94.77',
      '::1:9477',
      '[::1]',
      '[::1]:',
      '[]:9477',
      'http://127.0.0.1:9477',
      '127.0.0.1:9477/metrics',
      '127.0.0.1:9477:1',
    ]) {
      expect(() => parseListenAddress(text), JSON.stringify(text)).to.throw(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:9477 or [::1]:9477)`);
    }
  });

  it('refuses brackets around what is not an IPv6 address', () => {
    expect(() => parseListenAddress('[127.0.0.1]:80')).to.throw('"127.0.0.1" in "[127.0.0.1]:80" is not an IPv6 address');
    expect(() => parseListenAddress('[localhost]:80')).to.throw('"localhost" in "[localhost]:80" is not an IPv6 address');
  });

  it('counts 127.0.0.0/8, ::1 (in any spelling), ::ffff:127.0.0.0/104 and localhost as loopback', () => {
    for (const host of [
      'localhost',
      '127.0.0.1',
      '127.0.0.53',
      '127.255.255.255',
      '::1',
      '0:0:0:0:0:0:0:1',
      '0000:0000:0000:0000:0000:0000:0000:0001',
      '::ffff:127.0.0.1',
      '::FFFF:127.1.2.3',
      '::ffff:7f00:1',
    ]) {
      expect(isLoopback(host), host).to.equal(true);
    }
  });

  it('counts every other address and name as not loopback', () => {
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '128.0.0.1',
      '126.255.255.255',
      '192.168.1.127',
      '::2',
      '::ffff:10.0.0.1',
      '::ffff:0.0.0.0',
      'fe80::1',
      '::127.0.0.1',
      'example.org',
      'localhost.example.org',
      'my-localhost',
      '127.0.0.1.example.org',
      '',
    ]) {
      expect(isLoopback(host), host).to.equal(false);
    }
  });

  it('takes every address it parses to isLoopback without throwing', () => {
    for (const text of ['127.0.0.1:1', '[::1]:1', '[::]:1', '0.0.0.0:1', 'localhost:1', 'example.org:1']) {
      const { host } = parseListenAddress(text);
      expect(() => isLoopback(host), text).not.to.throw();
    }
  });
});
