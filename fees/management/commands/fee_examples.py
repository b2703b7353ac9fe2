"""Print the seed's three worked fee examples as the calculator computes them."""

from django.core.management.base import BaseCommand

from fees.calculator import seed_examples
from fees.labels import line_label


class Command(BaseCommand):
    help = "Print seed 004's worked fee examples (385, 1,400 and 525 yen) as computed by fees.calculator."

    def handle(self, *args, **options):
        for title, breakdown in seed_examples():
            self.stdout.write(title)
            for line in breakdown.lines:
                self.stdout.write(
                    f"  ({line.section}) {line_label(line.code)}: {line.unit_price} x {line.quantity} = {line.amount}"
                )
            self.stdout.write(
                f"  A={breakdown.copy_fee} B={breakdown.postage} C={breakdown.other_fees} total={breakdown.total}"
                f"  shares={[share.total for share in breakdown.shares]}"
            )
