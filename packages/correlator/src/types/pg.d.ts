// pg ships no type declarations; this is the part of its API the correlator uses.
declare module 'pg' {
  export interface QueryResult {
    rows: Record<string, unknown>[];
    rowCount: number | null;
  }
  export interface PoolClient {
    query(text: string, values?: unknown[]): Promise<QueryResult>;
    release(err?: Error | boolean): void;
  }
  export interface PoolConfig {
    connectionString?: string;
    max?: number;
    options?: string;
    idleTimeoutMillis?: number;
  }
  export class Pool {
    constructor(config?: PoolConfig);
    query(text: string, values?: unknown[]): Promise<QueryResult>;
    connect(): Promise<PoolClient>;
    end(): Promise<void>;
    on(event: 'error', listener: (err: Error) => void): this;
  }
  const pg: { Pool: typeof Pool };
  export default pg;
}
