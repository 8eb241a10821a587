-- final receipts a carrier's clock put out of place: dated more than 10 minutes before their
-- message was sent, or after the build, or before 2000. Reported, never a reason to hold
-- back the marts: the message keeps the status its receipt's state gives it.
with contacts as (
    select * from {{ ref('fct_launch_contacts') }}
),

dated as (
    select
        launch_id,
        contact_id,
        provider,
        provider_message_id,
        reached_status,
        submitted_at,
        final_receipt_at,
        case
            when final_receipt_at < {{ dbt.dateadd('minute', -10, 'submitted_at') }}
                then 'done more than 10 minutes before the message was sent'
            when final_receipt_at > {{ dbt.dateadd('minute', 10, 'current_timestamp') }}
                then 'done in the future'
            when final_receipt_at < cast('2000-01-01' as date)
                then 'done before 2000'
        end as problem
    from contacts
    where final_receipt_at is not null
)

select * from dated
where problem is not null
