import { useDocumentTitle } from '../hooks';

export function NotFound() {
  useDocumentTitle('Not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. Go to <a href="#/webhooks">Webhooks</a>.
      </p>
    </>
  );
}
