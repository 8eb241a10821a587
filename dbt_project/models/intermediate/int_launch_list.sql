-- contract: the launch list is every distinct contact with a send-log or a credit-block row
with send_contacts as (
    select launch_id, contact_id from {{ ref('int_deciding_send_rows') }}
),

credit_contacts as (
    select launch_id, contact_id from {{ ref('int_credit_blocks') }}
)

select launch_id, contact_id from send_contacts
union
select launch_id, contact_id from credit_contacts
