# One image for web, worker and beat (docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORTAL_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml ./
COPY portal ./portal
COPY billing ./billing
COPY licensing ./licensing
COPY planchange ./planchange
RUN pip install --no-cache-dir .
COPY . .
RUN python manage.py collectstatic --noinput && rm -f var/secret_key
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
