# The ILL desk: one image for the web tier (gunicorn), the Celery worker and Celery beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app
RUN useradd --create-home --uid 1000 ill

COPY pyproject.toml README.md ./
COPY config ./config
COPY ill ./ill
COPY patrons ./patrons
COPY fees ./fees
COPY notifications ./notifications
RUN pip install --upgrade pip && pip install .

COPY manage.py gunicorn.conf.py ./
COPY templates ./templates
COPY static ./static
COPY locale ./locale

# collectstatic and the translations need settings but no database or real secret.
RUN DJANGO_SECRET_KEY=build-only-not-secret-0123456789abcdef0123456789 DJANGO_ALLOWED_HOSTS=build \
    python manage.py compiletranslations && \
    DJANGO_SECRET_KEY=build-only-not-secret-0123456789abcdef0123456789 DJANGO_ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput

USER ill
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "-c", "gunicorn.conf.py"]
