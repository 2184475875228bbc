import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';

const E164 = /^\+[1-9]\d{6,14}$/;
const E164_MESSAGE = 'phone must be an E.164 number such as +15551234567';

export class VerifyStartDto {
  @ApiProperty({ example: '+15551234567' })
  @IsString()
  @Matches(E164, { message: E164_MESSAGE })
  phone!: string;
}

export class VerifyStartResponseDto {
  @ApiProperty({ example: 'sent' }) status!: 'sent';
  @ApiProperty({ description: 'Seconds the code stays valid', example: 600 }) expires_in!: number;
}

export class VerifyConfirmDto {
  @ApiProperty({ example: '+15551234567' })
  @IsString()
  @Matches(E164, { message: E164_MESSAGE })
  phone!: string;

  @ApiProperty({ example: '123456' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code!: string;

  @ApiPropertyOptional({ description: 'Used when the person has no name yet' })
  @IsOptional()
  @IsString()
  @Matches(/\S/, { message: 'name must not be blank' })
  @MaxLength(100)
  name?: string;
}

export class TokensResponseDto {
  @ApiProperty() access_token!: string;
  @ApiProperty() refresh_token!: string;
  @ApiProperty() user_id!: string;
  @ApiProperty({ description: 'Seconds until the access token expires', example: 900 })
  expires_in!: number;
}

export class RefreshDto {
  @ApiPropertyOptional({ description: 'Omit to use the refresh cookie' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  refresh_token?: string;
}

export class SessionResponseDto {
  @ApiProperty() authenticated!: true;
  @ApiProperty() user_id!: string;
  @ApiProperty() session_id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty() phone!: string;
}

export class CsrfTokenResponseDto {
  @ApiProperty({ description: 'Send back as X-CSRF-Token on mutating cookie requests' })
  csrf_token!: string;
}

export class UpdateProfileDto {
  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 100 })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Matches(/\S/, { message: 'name must not be blank' })
  @MaxLength(100)
  name?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'America/New_York' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(64)
  time_zone?: string | null;
}

export class PersonaTalkedToDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
}

export class RelationshipDto {
  @ApiProperty({ nullable: true, type: String }) first_contact_at!: string | null;
  @ApiProperty() messages_exchanged!: number;
  @ApiProperty() memories_count!: number;
}

export class ProfileResponseDto {
  @ApiProperty() user_id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty() phone!: string;
  @ApiProperty({ nullable: true, type: String }) time_zone!: string | null;
  @ApiProperty({ type: [PersonaTalkedToDto] }) personas!: PersonaTalkedToDto[];
  @ApiProperty({ type: RelationshipDto }) relationship!: RelationshipDto;
  @ApiProperty() created_at!: string;
}

export class UserMemoryDto {
  @ApiProperty() id!: string;
  @ApiProperty() type!: string;
  @ApiProperty() content!: string;
  @ApiProperty({ description: 'Where it came from (message, photo, …)' }) source!: string;
  @ApiProperty() confidence!: number;
  @ApiProperty() created_at!: string;
}

export class UserMemoriesDto {
  @ApiProperty({ type: [UserMemoryDto] }) memories!: UserMemoryDto[];
}
