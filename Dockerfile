FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# .dockerignore keeps .env, .venv, db.sqlite3, .git, media and caches out of the build context.
COPY . .
RUN pip install --no-cache-dir -e . \
    && SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && useradd --system --create-home --uid 10001 --user-group openimis \
    && mkdir -p /app/media \
    && chown openimis:openimis /app/media
# The processes run as an unprivileged user: the code and static files are read-only for them, only media/ is
# writable (the compose file mounts a volume there).
USER openimis
EXPOSE 8000
CMD ["gunicorn", "openimis_be.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
