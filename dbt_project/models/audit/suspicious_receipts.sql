-- final receipts a carrier's clock put out of place: dated before their message was sent (by
-- more than the clock skew the project allows), after the build, or before the earliest
-- plausible date. Reported, never a reason to hold back the marts: the message keeps the status
-- its receipt's state gives it.
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
            when final_receipt_at < {{ dbt.dateadd('minute', -1 * var('clock_skew_minutes'), 'submitted_at') }}
                then 'done more than {{ var("clock_skew_minutes") }} minutes before the message was sent'
            when final_receipt_at > {{ dbt.dateadd('minute', var('clock_skew_minutes'), 'current_timestamp') }}
                then 'done in the future'
            when final_receipt_at < cast('{{ var("earliest_plausible_date") }}' as date)
                then 'done before {{ var("earliest_plausible_date") }}'
        end as problem
    from contacts
    where final_receipt_at is not null
)

select * from dated
where problem is not null
