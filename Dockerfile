# One image for web, worker and beat (docker-compose.yml), on the production settings.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORTAL_VAR_DIR=/app/var \
    DJANGO_SETTINGS_MODULE=portal.settings.production
WORKDIR /app
COPY pyproject.toml ./
COPY portal ./portal
COPY billing ./billing
COPY licensing ./licensing
COPY planchange ./planchange
COPY webhooks ./webhooks
COPY simulation ./simulation
COPY support ./support
COPY portalctl ./portalctl
RUN pip install --no-cache-dir .
COPY . .
# Production settings refuse to load without their secrets; collectstatic needs none of
# them, so this one command gets placeholders that stay out of the image.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost DJANGO_CACHE_URL=locmemcache:// \
    python manage.py collectstatic --noinput
EXPOSE 8000
# --timeout: a support move of the clock applies every day on the way within its request (up to
# 3,660 days; minutes over many tenants).
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "300"]
