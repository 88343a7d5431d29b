// The example API: orders in Postgres. GET / counts them, POST /orders adds one.
import { createServer } from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
// A database restart closes idle connections; the pool reconnects on the next query.
pool.on('error', () => undefined);
// Replicas start together: CREATE TABLE IF NOT EXISTS is not safe against a concurrent
// one (duplicate key in pg_type), so the first start is serialised by an advisory lock.
const setup = await pool.connect();
try {
  await setup.query('BEGIN');
  await setup.query('SELECT pg_advisory_xact_lock(4242)');
  await setup.query('CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, item text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
  await setup.query('COMMIT');
} finally {
  setup.release();
}

const server = createServer(async (req, res) => {
  try {
    if (req.url === '/healthz') {
      await pool.query('SELECT 1');
      return res.end('ok');
    }
    if (req.method === 'POST' && req.url === '/orders') {
      const { rows } = await pool.query('INSERT INTO orders (item) VALUES ($1) RETURNING id', ['widget']);
      return res.end(JSON.stringify({ id: rows[0].id, by: process.env.SYMPHONY_INSTANCE }) + '\n');
    }
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM orders');
    res.end(JSON.stringify({ orders: rows[0].n, by: process.env.SYMPHONY_INSTANCE, kv: process.env.KV_ENDPOINTS?.split(',').length ?? 0 }) + '\n');
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err.message) + '\n');
  }
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
