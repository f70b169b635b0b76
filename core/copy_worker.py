"""The helper process of :class:`core.bulk.BackgroundInserts` (``python -m core.copy_worker``): no Django, only
psycopg. Reads pickled messages on stdin — first the connection parameters, then per batch ``(COPY statement,
COPY text, [(sql, params), …])``, ``None`` to stop — and writes each batch in its own transaction, answering
``("ok", None)`` or ``("error", reason)`` on stdout; it stops at the first error (the batch rolled back)."""
import pickle
import sys

import psycopg


def main():
    incoming, outgoing = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write on the answers' pipe
    with psycopg.connect(**pickle.load(incoming)) as connection:
        while (message := pickle.load(incoming)) is not None:
            copy_sql, text, statements = message
            try:
                with connection.cursor() as cursor:
                    with cursor.copy(copy_sql) as copy:
                        copy.write(text)
                    for sql, params in statements:
                        cursor.execute(sql, params)
                connection.commit()
                answer = ("ok", None)
            except psycopg.Error as exc:
                connection.rollback()
                answer = ("error", f"{exc.__class__.__name__}: {str(exc).strip()}")
            pickle.dump(answer, outgoing)
            outgoing.flush()
            if answer[0] != "ok":
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
