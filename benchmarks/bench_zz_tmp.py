import time, collections, re
import pytest
from django.db import connection
from planchange.timeline import clock_move
from portal import clock
from tests.factories import PaymentMethodFactory, SubscriptionFactory, TenantFactory
from benchmarks import results

@pytest.mark.django_db(transaction=True)
def test_tmp():
    clock.set_date(clock.today())
    for i in range(results.scaled(1000)):
        tenant = TenantFactory(domain=f"clock{i}.example")
        card = PaymentMethodFactory(tenant=tenant, is_default=True)
        SubscriptionFactory(tenant=tenant, licenses=10, payment_method=card, start_date=clock.today())
    clock_move(actor="support", days=1)
    stats = collections.defaultdict(lambda: [0, 0.0])
    def wrap(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = re.sub(r"\s+", " ", sql)[:110]
            stats[key][0] += 1; stats[key][1] += time.perf_counter() - t
    started = time.perf_counter()
    import cProfile
    prof = cProfile.Profile()
    with connection.execute_wrapper(wrap):
        prof.enable()
        clock_move(actor="support", days=730)
        prof.disable()
    prof.dump_stats("/tmp/clock2.prof")
    total = time.perf_counter() - started
    dbt = sum(v[1] for v in stats.values())
    print(f"\nTOTAL {total:.2f}s DB {dbt:.2f}s")
    for k, (n, t) in sorted(stats.items(), key=lambda kv: -kv[1][1])[:25]:
        print(f"{t:7.2f}s {n:6d}  {k}")
