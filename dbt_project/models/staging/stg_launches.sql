with source as (
    select * from {{ source('lake', 'launches') }}
),

renamed as (
    select
        event_id,
        launch_id,
        campaign_id,
        campaign_name,
        campaign_type,
        program_id,
        launched_at,
        cast(launch_list_size as bigint) as declared_launch_list_size,
        _arrival_date as arrival_date,
        _ingested_at as ingested_at
    from source
)

select * from renamed
