with source as (
    select * from {{ source('lake', 'dlrs') }}
),

renamed as (
    select
        received_at,
        provider,
        trim(provider_message_id) as provider_message_id,
        stat,
        err as err_raw,
        {{ safe_integer('trim(err)') }} as err_code,
        done_at,
        receipt_shape,
        _arrival_date as arrival_date,
        _source_file as source_file,
        cast(_source_line as bigint) as source_line,
        _ingested_at as ingested_at
    from source
)

select * from renamed
