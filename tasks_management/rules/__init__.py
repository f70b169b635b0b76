"""Rule-generated follow-up tasks with CHT ``tasks.js`` semantics (task_rules.md).

``schema`` (TaskRule / TaskEvent / TaskAction and their validation), ``registry`` (rules, contact adapters,
report sources, discovery, ``rules_hash``), ``utils`` (CHT's Utils), ``states`` (states, windows, history),
``sources`` (bundles), ``engine`` (refresh, decay, purge, freshness, the lock), ``triggers`` (dirty marking),
``queries`` (dueTasks, breakdown). Other modules use the public names re-exported by
``tasks_management.services``.
"""
