import type http from 'node:http';

/** How the client tried to authenticate, in the contract's precedence order. */
export type Credentials =
  | { kind: 'subprotocol'; token: string; protocol: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'ticket'; ticketId: string }
  | { kind: 'unsupported_subprotocol'; protocol: string }
  | { kind: 'none' };

export function offeredProtocols(req: http.IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  if (!header) return [];
  return header.split(',').map((protocol) => protocol.trim()).filter(Boolean);
}

export function readCredentials(req: http.IncomingMessage, url: URL): Credentials {
  const protocols = offeredProtocols(req);
  if (protocols.length > 0) {
    const jwtProtocol = protocols.find((protocol) => protocol.startsWith('jwt.'));
    if (jwtProtocol) return { kind: 'subprotocol', token: jwtProtocol.slice(4), protocol: jwtProtocol };
    // Protocols were offered but none we speak: the handshake completes, then 1003.
    return { kind: 'unsupported_subprotocol', protocol: protocols[0] ?? '' };
  }
  const authorization = req.headers.authorization;
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  if (bearer) return { kind: 'bearer', token: bearer };
  const ticketId = url.searchParams.get('ticket');
  if (ticketId) return { kind: 'ticket', ticketId };
  return { kind: 'none' };
}
