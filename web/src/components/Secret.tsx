import { useId } from 'react';
import { CodeBlock, CopyButton } from './ui';

export const VERIFY_SNIPPET = `// npm install standardwebhooks
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

// The endpoint's signing secret ("whsec_…"), kept out of your code.
const wh = new Webhook(process.env.SOCIALFLOW_WEBHOOK_SECRET);

createServer(async (req, res) => {
  // Verify the raw body exactly as received: parse JSON only afterwards.
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const rawBody = Buffer.concat(chunks);
  let event;
  try {
    event = wh.verify(rawBody, {
      'webhook-id': req.headers['webhook-id'],
      'webhook-timestamp': req.headers['webhook-timestamp'],
      'webhook-signature': req.headers['webhook-signature'],
    });
  } catch {
    res.writeHead(400).end('invalid signature');
    return;
  }
  // webhook-id is the same on every retry: use it to ignore duplicates.
  console.log(req.headers['webhook-id'], event.event, event);
  res.writeHead(204).end(); // any 2xx marks the delivery as succeeded
}).listen(3000);
`;

/** A secret in a read-only field with a copy button. */
export function SecretValue({ secret, label = 'Signing secret' }: { secret: string; label?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="input-row">
        <input id={id} className="mono secret-value" readOnly value={secret} spellCheck={false} onFocus={(e) => e.target.select()} />
        <CopyButton text={secret} label="Copy secret" className="button" />
      </div>
    </div>
  );
}

export function VerifySnippet() {
  return (
    <section className="snippet" aria-labelledby="verify-title">
      <h3 id="verify-title">How to verify a request</h3>
      <p>
        Every request carries the headers <code>webhook-id</code>, <code>webhook-timestamp</code> and <code>webhook-signature</code> (
        <a href="https://www.standardwebhooks.com/" target="_blank" rel="noreferrer">
          Standard Webhooks
        </a>
        ). Check them against the <strong>raw</strong> request body with the <code>standardwebhooks</code> package before trusting it:
      </p>
      <div className="code-head">
        <span className="muted small">Node.js</span>
        <CopyButton text={VERIFY_SNIPPET} label="Copy code" />
      </div>
      <CodeBlock className="tall" label="Node.js example that verifies a webhook signature">{VERIFY_SNIPPET}</CodeBlock>
    </section>
  );
}
