# The ILL desk: one image for the web tier (gunicorn), the Celery workers, Celery beat and the
# one-shot `migrate` of docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app
RUN useradd --create-home --uid 1000 ill
# xmlsec1: pysaml2 signs and checks SAML messages with it (the campus sign-in, SAML_ENABLED).
RUN apt-get update && apt-get install -y --no-install-recommends xmlsec1 && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY config ./config
COPY core ./core
COPY ill ./ill
COPY patrons ./patrons
COPY fees ./fees
COPY notifications ./notifications
COPY reports ./reports
COPY lending ./lending
COPY iso18626 ./iso18626
RUN pip install --upgrade pip && pip install .

COPY manage.py gunicorn.conf.py ./
COPY templates ./templates
COPY static ./static
COPY locale ./locale

# collectstatic and the translations need the production settings but no database, no real secret
# and no mail server: these values live only in this build step, none is baked into the image.
RUN export DJANGO_SECRET_KEY=build-only-not-a-secret-Zq8vT3mK9pW2xR7nL4cY6hB1jF5gD0sA \
           DJANGO_ALLOWED_HOSTS=build EMAIL_URL=smtp://build.invalid:25 && \
    python manage.py compiletranslations && \
    python manage.py collectstatic --noinput

USER ill
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "-c", "gunicorn.conf.py"]
