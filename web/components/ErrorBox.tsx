import type { ApiError } from '../api.ts';

/** A server (or predicted) error, with its Seam type and message as the API sent them. */
export function ErrorBox({
  error,
  intro,
}: {
  error: Pick<ApiError, 'type' | 'message'> & { status?: number };
  intro: string;
}) {
  return (
    <div class="notice error" role="alert">
      <p>
        {intro}{' '}
        <code class="error-type">
          {error.status ? `${error.status} ` : ''}
          {error.type}
        </code>
      </p>
      <p class="error-message">{error.message}</p>
    </div>
  );
}
