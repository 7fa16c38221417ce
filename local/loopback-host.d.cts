import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export function hostName(header: string | undefined): string | undefined;
export function isLoopbackHost(header: string | undefined, allowed?: readonly string[]): boolean;
export function foreignHostMessage(header: string | undefined, service: string): string;
export function refuse(response: ServerResponse, header: string | undefined, service: string): void;
export function guardServer<T extends Server<typeof IncomingMessage, typeof ServerResponse>>(server: T, service: string): T;
