import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('ill', '0023_isil'),
    ]

    operations = [
        migrations.CreateModel(
            name='Peer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('endpoint_url', models.URLField(help_text='Where we POST our messages, e.g. https://ill.example.ac.jp/iso18626/', max_length=300, validators=[django.core.validators.URLValidator(schemes=['http', 'https'])], verbose_name='endpoint URL')),
                ('shared_secret', models.CharField(help_text='Agreed with the other library; both sides sign their messages with it (HMAC-SHA256).', max_length=200, verbose_name='shared secret')),
                ('accept_unsigned', models.BooleanField(default=False, help_text="Only for systems that cannot sign (ReShare, most commercial systems): anyone who knows this library's ISIL can then send messages in its name.", verbose_name='accept unsigned messages')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('notes', models.TextField(blank=True, verbose_name='notes')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('library', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='iso18626_peer', to='ill.lendinginstitution', verbose_name='library')),
            ],
            options={
                'verbose_name': 'ISO 18626 peer',
                'verbose_name_plural': 'ISO 18626 peers',
            },
        ),
        migrations.CreateModel(
            name='Message',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('direction', models.CharField(choices=[('out', 'Sent by us'), ('in', 'Received')], max_length=3, verbose_name='direction')),
                ('message_type', models.CharField(max_length=40, verbose_name='message type')),
                ('code', models.CharField(blank=True, help_text='The action, status or reason it carries.', max_length=40, verbose_name='action / status')),
                ('requesting_agency_request_id', models.CharField(blank=True, max_length=100, verbose_name="requesting agency's request id")),
                ('supplying_agency_request_id', models.CharField(blank=True, max_length=100, verbose_name="supplying agency's request id")),
                ('timestamp', models.DateTimeField(verbose_name='message timestamp')),
                ('body', models.TextField(verbose_name='body')),
                ('state', models.CharField(choices=[('queued', 'Queued'), ('sent', 'Sent'), ('failed', 'Failed'), ('rejected', 'Rejected'), ('received', 'Received'), ('processed', 'Processed')], max_length=10, verbose_name='state')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='next attempt')),
                ('last_error', models.TextField(blank=True, verbose_name='last error')),
                ('confirmation', models.TextField(blank=True, verbose_name='confirmation')),
                ('http_status', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='HTTP status')),
                ('dedupe_key', models.CharField(blank=True, max_length=64, verbose_name='de-duplication key')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='sent / processed')),
                ('peer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='iso18626.peer', verbose_name='peer')),
            ],
            options={
                'verbose_name': 'ISO 18626 message',
                'verbose_name_plural': 'ISO 18626 messages',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(condition=models.Q(('state', 'queued')), fields=['next_attempt_at'], name='iso18626_outbox_due'), models.Index(fields=['peer', 'requesting_agency_request_id'], name='iso18626_message_request')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('dedupe_key', ''), _negated=True), fields=('direction', 'dedupe_key'), name='iso18626_message_dedupe')],
            },
        ),
    ]
