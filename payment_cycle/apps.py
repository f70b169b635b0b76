"""payment_cycle: payment cycles, payment plans (rule configuration per programme), entitlements, payroll."""
from core.module_config import ModuleAppConfig

MODULE_NAME = "payment_cycle"

DEFAULT_CONFIG = {
    "gql_query_payment_cycle_perms": ["200001"],
    "gql_create_payment_cycle_perms": ["200002"],
    "gql_update_payment_cycle_perms": ["200003"],
    "gql_delete_payment_cycle_perms": ["200004"],
    "gql_mutation_process_payment_cycle_perms": ["200005"],
    "gql_check_payment_cycle": True,
    "gql_query_payment_plan_perms": ["157101"],
    "gql_create_payment_plan_perms": ["157102"],
    "gql_update_payment_plan_perms": ["157103"],
    "gql_delete_payment_plan_perms": ["157104"],
    # entitlements of one payment plan are computed in chunks of this many enrolments (celery group/chord
    # when a broker is configured; in-process otherwise). 0 = one chunk per payment plan.
    "processing_chunk_size": 200_000,
    "default_currency": "USD",
    "entitlement_type": "Cash Transfer",
    # rows per reconciliation file (a larger file is refused before anything is read into the database)
    "reconciliation_max_rows": 2_000_000,
}


class PaymentCycleConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Payment cycles"
    DEFAULT_CONFIG = DEFAULT_CONFIG

    def ready(self):
        super().ready()
        from payment_cycle.services import live_payment_plans
        from social_protection.services import register_payment_plans

        register_payment_plans(live_payment_plans)
